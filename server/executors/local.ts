import { spawn } from 'node:child_process';
import { access, constants, mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { StageRequest, StageResult } from './contract.js';
import { ExecutorUnavailableError, type Executor, type StagePoll } from './types.js';

export interface LocalExecutorOptions {
  python: string;
  pipelineDir: string;
  dataDir: string;
  logger: Logger;
  /** Seconds between SIGTERM and SIGKILL when cancelling. */
  killGraceSeconds?: number;
  /** Extra environment for the pipeline process (tests set model caches here). */
  env?: NodeJS.ProcessEnv;
}

interface Tail {
  offset: number;
  partial: string;
}

/**
 * Runs each stage as `python -m finetune stage --request FILE` in `modal/`.
 * The child runs in its own process group with stdout redirected to
 * `events-<attempt>.jsonl` and stderr to `stderr-<attempt>.log`, so it keeps
 * running when the server stops. A restarted server re-attaches by reading the
 * file again, and ingestion drops the events it already stored.
 */
export class LocalExecutor implements Executor {
  readonly kind = 'LOCAL' as const;
  private readonly tails = new Map<string, Tail>();
  private readonly exitCodes = new Map<number, number | null>();
  private readonly cancelRequested = new Map<number, number>();

  constructor(private readonly options: LocalExecutorOptions) {}

  async preflight(): Promise<void> {
    try {
      await access(this.options.python, constants.X_OK);
    } catch {
      throw new ExecutorUnavailableError(
        `The pipeline's Python interpreter ${this.options.python} does not exist or is not executable.`,
        'npm run setup   (creates modal/.venv), or set TUNEDECK_PYTHON to a Python with modal/requirements-local.txt installed',
      );
    }
  }

  jobOutputDir(jobId: string): string {
    return path.join(this.options.dataDir, 'jobs', jobId);
  }

  private files(request: StageRequest) {
    const base = path.join(request.output_dir, 'attempts');
    return {
      dir: base,
      request: path.join(base, `request-${request.attempt}.json`),
      events: path.join(base, `events-${request.attempt}.jsonl`),
      stderr: path.join(base, `stderr-${request.attempt}.log`),
    };
  }

  async start(request: StageRequest): Promise<string> {
    // Resources are ignored: the process uses this machine's CPU or GPU.
    const files = this.files(request);
    await mkdir(files.dir, { recursive: true });
    await writeFile(files.request, JSON.stringify(request, null, 2));
    const events = await open(files.events, 'a');
    const stderr = await open(files.stderr, 'a');
    try {
      const child = spawn(this.options.python, ['-m', 'finetune', 'stage', '--request', files.request], {
        cwd: this.options.pipelineDir,
        detached: true,
        stdio: ['ignore', events.fd, stderr.fd],
        env: { ...process.env, PYTHONUNBUFFERED: '1', ...this.options.env },
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', reject);
      });
      child.once('exit', (code, signal) => {
        this.exitCodes.set(pid, code ?? (signal ? 128 : null));
      });
      child.unref();
      this.options.logger.info({ jobId: request.job_id, runId: request.run_id, stage: request.stage, attempt: request.attempt, pid }, 'pipeline process started');
      return `local:${pid}:${request.attempt}`;
    } finally {
      await events.close();
      await stderr.close();
    }
  }

  async poll(ref: string, request: StageRequest): Promise<StagePoll> {
    const pid = parsePid(ref);
    const alive = await isPipelineProcess(pid);
    // Read after the liveness check, so events written just before exit are not missed.
    const events = await this.readNewEvents(this.files(request).events);
    const result = findResult(events) ?? (await this.resultSeenBefore(request));
    if (result) return { events, state: 'finished', result };
    if (alive) return { events, state: 'running' };
    const code = this.exitCodes.get(pid);
    const stderrTail = await readTail(this.files(request).stderr, 2000);
    return {
      events,
      state: 'lost',
      reason: `The pipeline process ${pid} ended${code === undefined ? '' : ` with exit code ${code}`} without reporting a result.${stderrTail ? ` Last stderr lines:\n${stderrTail}` : ''}`,
    };
  }

  /** Finds a result that an earlier poll read but whose caller crashed before storing it. */
  private async resultSeenBefore(request: StageRequest): Promise<StageResult | undefined> {
    const text = await readFile(this.files(request).events, 'utf8').catch(() => '');
    const lastLines = text.trimEnd().split('\n').slice(-5);
    for (const line of lastLines.reverse()) {
      try {
        const event = JSON.parse(line) as { type?: string; data?: StageResult };
        if (event.type === 'result' && event.data) return event.data;
      } catch {
        // A partial last line: the process is still writing it.
      }
    }
    return undefined;
  }

  private async readNewEvents(file: string): Promise<unknown[]> {
    const tail = this.tails.get(file) ?? { offset: 0, partial: '' };
    this.tails.set(file, tail);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      return [];
    }
    if (size <= tail.offset) return [];
    const handle = await open(file, 'r');
    try {
      const length = size - tail.offset;
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, tail.offset);
      tail.offset = size;
      const text = tail.partial + buffer.toString('utf8');
      const lines = text.split('\n');
      tail.partial = lines.pop() ?? '';
      const events: unknown[] = [];
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          events.push(JSON.parse(line));
        } catch {
          events.push({ invalidLine: line.slice(0, 500) });
        }
      }
      return events;
    } finally {
      await handle.close();
    }
  }

  async cancel(ref: string): Promise<boolean> {
    const pid = parsePid(ref);
    if (!(await isPipelineProcess(pid))) return true;
    const firstCancelAt = this.cancelRequested.get(pid);
    const graceMs = (this.options.killGraceSeconds ?? 15) * 1000;
    const signal = firstCancelAt !== undefined && Date.now() - firstCancelAt > graceMs ? 'SIGKILL' : 'SIGTERM';
    if (firstCancelAt === undefined) this.cancelRequested.set(pid, Date.now());
    try {
      // The child leads its own process group, so this also stops its workers.
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
    return !(await isPipelineProcess(pid));
  }

  async close(): Promise<void> {
    // Children keep running on purpose: a restarted server re-attaches to them.
  }
}

function parsePid(ref: string): number {
  const match = /^local:(\d+):/.exec(ref);
  if (!match) throw new Error(`Not a local executor handle: ${ref}`);
  return Number(match[1]);
}

function findResult(events: unknown[]): StageResult | undefined {
  for (const event of events) {
    const candidate = event as { type?: string; data?: StageResult };
    if (candidate.type === 'result' && candidate.data) return candidate.data;
  }
  return undefined;
}

/** True when `pid` is alive and runs the pipeline (guards against a reused process id). */
export async function isPipelineProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const status = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3 is the state; Z is a zombie that has exited.
    if (/^\d+ \(.*\) Z/.test(status)) return false;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('finetune');
  } catch {
    // No /proc (macOS): trust the signal check.
    return true;
  }
}

async function readTail(file: string, maxChars: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.slice(-maxChars).trim();
}
