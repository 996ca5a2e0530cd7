import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Logger } from '../logger.js';

/** Outcome of the merge verification gate, as `python -m finetune verify` prints it. */
export interface GateResult {
  deployable: boolean;
  reason: string | null;
  checks: { name: string; ok: boolean; detail: string }[];
  smoke?: { prompt: string; answer: string; base_answer: string } | null;
}

/** Serving settings of a deployment, as stored on its row. */
export interface ServingConfig {
  gpuType: string;
  maxConcurrentRequests: number;
  autoScale: boolean;
  idleTimeoutSeconds: number;
}

/** A completion from an OpenAI-compatible endpoint, split into Harmony channels. */
export interface Completion {
  answer: string;
  reasoning: string | null;
  latencyMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
}

/**
 * Runtime that serves deployed models. The local runtime starts `python -m finetune
 * serve` processes on this machine; a Modal runtime would start vLLM there.
 */
export interface DeploymentRuntime {
  readonly kind: 'LOCAL' | 'MODAL';
  /** Runs the merge verification gate on a merged model folder. */
  verify(mergedPath: string, baseModel: string): Promise<GateResult>;
  /** Starts serving; returns the handle, and the endpoint URL when it is known at once. */
  start(deploymentId: string, mergedPath: string, config: ServingConfig): Promise<{ ref: string; endpointUrl: string | null }>;
  /** The endpoint URL of a started server, once it has one (a Modal tunnel opens after start-up). */
  endpoint(ref: string): Promise<string | null>;
  /** True while the serving process is alive. */
  isAlive(ref: string): Promise<boolean>;
  stop(ref: string): Promise<void>;
  /** Message when the server ended on purpose (an idle timeout), or null when it crashed. */
  stoppedOnPurpose?(ref: string): Promise<string | null>;
  /** Log tail of a serving process, for the FAILED reason. */
  describeFailure(ref: string): Promise<string>;
  /** Generates with the base model directly, for side-by-side comparisons. */
  generateWithBase(baseModel: string, prompt: string, reasoningEffort: string): Promise<Completion>;
}

export interface LocalRuntimeOptions {
  python: string;
  pipelineDir: string;
  dataDir: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

/** Runs a pipeline CLI command to completion and returns its stdout. */
function runPipeline(options: LocalRuntimeOptions, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.python, ['-m', 'finetune', ...args], { cwd: options.pipelineDir, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Serves merged models with `python -m finetune serve` on 127.0.0.1. */
export class LocalRuntime implements DeploymentRuntime {
  readonly kind = 'LOCAL' as const;

  constructor(private readonly options: LocalRuntimeOptions) {}

  async verify(mergedPath: string, baseModel: string): Promise<GateResult> {
    const { code, stdout, stderr } = await runPipeline(this.options, ['verify', '--merged', mergedPath, '--base-model', baseModel], 10 * 60_000);
    const lastLine = stdout.trim().split('\n').at(-1) ?? '';
    try {
      return JSON.parse(lastLine) as GateResult;
    } catch {
      return { deployable: false, reason: `The verification command failed (exit code ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`, checks: [] };
    }
  }

  private logFile(deploymentId: string): string {
    return path.join(this.options.dataDir, 'deployments', `${deploymentId}.log`);
  }

  async start(deploymentId: string, mergedPath: string): Promise<{ ref: string; endpointUrl: string | null }> {
    const port = await freePort();
    await mkdir(path.dirname(this.logFile(deploymentId)), { recursive: true });
    const log = await open(this.logFile(deploymentId), 'a');
    try {
      const child = spawn(this.options.python, ['-m', 'finetune', 'serve', '--model', mergedPath, '--port', String(port), '--host', '127.0.0.1'], {
        cwd: this.options.pipelineDir,
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
        env: { ...process.env, PYTHONUNBUFFERED: '1', ...this.options.env },
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', reject);
      });
      child.unref();
      this.options.logger.info({ deploymentId, pid, port }, 'local model server started');
      return { ref: `local:${pid}:${deploymentId}`, endpointUrl: `http://127.0.0.1:${port}` };
    } finally {
      await log.close();
    }
  }

  async endpoint(): Promise<string | null> {
    // The local server's URL is known when it starts; start() returns it.
    return null;
  }

  async isAlive(ref: string): Promise<boolean> {
    const pid = Number(ref.split(':')[1]);
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => 'finetune');
    return cmdline.includes('finetune');
  }

  async stop(ref: string): Promise<void> {
    const pid = Number(ref.split(':')[1]);
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      if (!(await this.isAlive(ref))) return;
      try {
        process.kill(-pid, signal);
      } catch {
        return;
      }
      for (let waited = 0; waited < 5000 && (await this.isAlive(ref)); waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async describeFailure(ref: string): Promise<string> {
    const deploymentId = ref.split(':')[2] ?? '';
    const text = await readFile(this.logFile(deploymentId), 'utf8').catch(() => '');
    return text.trim().split('\n').slice(-5).join('\n');
  }

  async generateWithBase(baseModel: string, prompt: string, reasoningEffort: string): Promise<Completion> {
    const started = Date.now();
    const { code, stdout, stderr } = await runPipeline(this.options, ['generate', '--model', baseModel, '--prompt', prompt, '--reasoning-effort', reasoningEffort], 5 * 60_000);
    if (code !== 0) throw new Error(`Generating with the base model failed: ${stderr.trim().split('\n').slice(-2).join(' ')}`);
    const body = JSON.parse(stdout.trim().split('\n').at(-1)!) as { answer: string; reasoning: string | null; prompt_tokens: number; completion_tokens: number };
    return { answer: body.answer, reasoning: body.reasoning, latencyMs: Date.now() - started, promptTokens: body.prompt_tokens, completionTokens: body.completion_tokens };
  }
}

/** Sends one chat completion to an OpenAI-compatible endpoint and splits the Harmony channels. */
export async function complete(endpointUrl: string, prompt: string, reasoningEffort: string): Promise<Completion> {
  const started = Date.now();
  const response = await fetch(`${endpointUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: prompt }], max_tokens: 64, temperature: 0, reasoning_effort: reasoningEffort }),
    signal: AbortSignal.timeout(120_000),
  });
  const body = (await response.json()) as {
    choices?: { message: { content: string; reasoning_content?: string | null } }[];
    usage?: { prompt_tokens: number; completion_tokens: number };
    error?: { message: string };
  };
  if (!response.ok || !body.choices?.[0]) throw new Error(`The model endpoint returned HTTP ${response.status}: ${body.error?.message ?? 'no choices'}`);
  const message = body.choices[0].message;
  return {
    answer: message.content,
    // Only a real analysis channel counts as reasoning; an empty one is reported as null.
    reasoning: message.reasoning_content?.trim() ? message.reasoning_content : null,
    latencyMs: Date.now() - started,
    promptTokens: body.usage?.prompt_tokens ?? null,
    completionTokens: body.usage?.completion_tokens ?? null,
  };
}

/** True when GET <endpoint>/health returns 200. */
export async function isHealthy(endpointUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpointUrl}/health`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}
