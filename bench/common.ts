import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One measured figure, with the baseline of the same run and the target it is held to. */
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** The closest limit measured in the same run (a bare pass, a raw insert, a raw broadcast). */
  baseline?: { name: string; value: number };
  /** Ratio value/baseline when higher is better, baseline/value when lower is better. */
  ratio?: number;
  target?: string;
  met?: boolean;
  /** Individual runs, so the page can show the spread behind the median. */
  runs?: number[];
}

export interface BenchResult {
  title: string;
  command: string;
  measurements: Measurement[];
  notes: string[];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile, `p` in 0-100. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const ROOT = path.resolve(import.meta.dirname, '..');
export const PYTHON = path.join(ROOT, 'modal', '.venv', 'bin', 'python');
export const CACHE_DIR = path.join(ROOT, '.cache', 'bench');

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export type EventKind = 'progress' | 'metric' | 'log' | 'heartbeat';
export const TRAINING_STEP_EVENTS: EventKind[] = ['progress', 'metric', 'log', 'heartbeat'];

/** Builds contract-valid events as a training loop sends them: one of each kind per step. */
export function pipelineEvents(jobId: string, runId: string, stream: string, count: number, kinds: EventKind[] = TRAINING_STEP_EVENTS): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const step = Math.floor((seq - 1) / kinds.length) + 1;
    const loss = 3 / Math.sqrt(step);
    const base = { v: 1, job_id: jobId, run_id: runId, stage: 'dataset_run', attempt: 1, stream, seq, ts: new Date().toISOString() };
    switch (kinds[(seq - 1) % kinds.length]) {
      case 'progress':
        events.push({ ...base, type: 'progress', data: { step, total_steps: 1_000_000, tokens_seen: step * 4096, epoch: step / 1000 } });
        break;
      case 'metric':
        events.push({ ...base, type: 'metric', data: { step, split: 'train', loss, learning_rate: 0.0002, grad_norm: 1.2, tokens_per_second: 5200, gpu_utilization: 0.93, gpu_memory_gb: 14.1, non_finite: [] } });
        break;
      case 'log':
        events.push({ ...base, type: 'log', data: { level: 'info', message: `step ${step}: loss ${loss.toFixed(4)}`, logger: 'finetune.train' } });
        break;
      default:
        events.push({ ...base, type: 'heartbeat', data: { step } });
    }
  }
  return events;
}

/** A throwaway PostgreSQL cluster on 127.0.0.1, as the CI script starts one. */
export interface PostgresCluster {
  url: string;
  version: string;
  stop(): void;
}

export const POSTGRES_PORT = 55440;

/**
 * Starts a PostgreSQL cluster owned by the postgres user in a temporary folder.
 * Returns `{ error }` with the reason when that fails (no server binaries, not root).
 */
export function startPostgres(): PostgresCluster | { error: string } {
  let binDir: string;
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
    binDir = path.join('/usr/lib/postgresql', versions.at(-1)!, 'bin');
  } catch {
    return { error: 'no PostgreSQL server under /usr/lib/postgresql' };
  }
  const folder = mkdtempSync(path.join(os.tmpdir(), 'tunedeck-bench-pg-'));
  const asPostgres = (command: string) => execFileSync('su', ['postgres', '-s', '/bin/bash', '-c', command], { stdio: 'pipe' });
  try {
    chownSync(folder, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
    asPostgres(`'${binDir}/initdb' -D '${folder}/data' -U postgres --auth=trust`);
    asPostgres(`'${binDir}/pg_ctl' -D '${folder}/data' -o '-p ${POSTGRES_PORT} -k ${folder} -c listen_addresses=127.0.0.1' -l '${folder}/log' -w start`);
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { error: `starting PostgreSQL failed: ${stderr || (error as Error).message}` };
  }
  const version = execFileSync(path.join(binDir, 'postgres'), ['--version']).toString().trim().split(' ')[2] ?? 'unknown';
  return {
    url: `postgres://postgres@127.0.0.1:${POSTGRES_PORT}/postgres`,
    version,
    stop() {
      try {
        asPostgres(`'${binDir}/pg_ctl' -D '${folder}/data' -m fast stop`);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}

/** Creates an empty database on the cluster and returns its URL. */
export async function createDatabase(baseUrl: string, name: string): Promise<string> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name}`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Load average and runnable tasks from /proc/loadavg, so each result states what else ran. */
export function machineLoad(): string {
  const [one, five] = os.loadavg();
  let runnable = '';
  try {
    // Fourth field: runnable scheduling entities / all entities, this reader included.
    runnable = `, ${readFileSync('/proc/loadavg', 'utf8').split(' ')[3]} tasks runnable/total`;
  } catch {
    runnable = '';
  }
  return `load average ${one!.toFixed(2)} (1 min), ${five!.toFixed(2)} (5 min)${runnable}`;
}

/**
 * Server settings for benchmark servers: seeding launches hundreds of jobs, which the
 * default mutation rate limit (60 at once, 60 per minute) would reject.
 */
export const BENCH_SERVER_ENV = { TUNEDECK_MUTATION_BURST: '100000', TUNEDECK_MUTATIONS_PER_MINUTE: '100000' };
