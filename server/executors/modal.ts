import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FunctionTimeoutError, InternalFailure, NotFoundError, QueueEmptyError, RemoteError, TimeoutError } from 'modal';
import type { Logger } from '../logger.js';
import type { StageRequest, StageResult } from './contract.js';
import { ExecutorUnavailableError, type Executor, type StagePoll, type StageResources } from './types.js';

export interface ModalFunction {
  spawn(args?: unknown[], kwargs?: Record<string, unknown>): Promise<{ functionCallId: string }>;
  withOptions(options: { gpu?: string; timeoutMs?: number }): { instance(): Promise<ModalFunction> };
}

/**
 * The part of Modal's JS SDK (modal@0.11.1) this executor uses. The real
 * `ModalClient` satisfies it; tests pass a fake of exactly this surface.
 */
export interface ModalApi {
  functions: { fromName(appName: string, name: string): Promise<ModalFunction> };
  functionCalls: {
    fromId(id: string): Promise<{ get(params?: { timeoutMs?: number }): Promise<unknown>; cancel(params?: { terminateContainers?: boolean }): Promise<void> }>;
  };
  queues: { fromName(name: string, params?: { createIfMissing?: boolean }): Promise<{ getMany(n: number, params?: { timeoutMs?: number; partition?: string }): Promise<unknown[]> }> };
}

export interface ModalExecutorOptions {
  appName: string;
  eventsQueue: string;
  logger: Logger;
  /** Mount point of the checkpoints Volume inside Modal containers. */
  outputRoot?: string;
  /** Creates the client on first use, so a server without Modal credentials still starts. */
  connect: () => Promise<ModalApi> | ModalApi;
  /** Credential check; defaults to the environment and ~/.modal.toml. */
  hasCredentials?: () => boolean;
}

/** Functions that modal/app.py deploys; the server calls them by name. */
export const MODAL_FUNCTIONS = { dataset_run: 'run_dataset', merge: 'merge' } as const;

/** Most events taken from the queue per poll. */
const EVENTS_PER_POLL = 500;

/**
 * Runs stages as spawned Modal function calls. The call id is the handle:
 * `client.functionCalls.fromId` re-attaches after a restart, `get({ timeoutMs: 0 })`
 * polls without waiting, and `cancel({ terminateContainers: true })` stops the
 * GPU container. Events arrive through a Modal Queue, one partition per job.
 */
export class ModalExecutor implements Executor {
  readonly kind = 'MODAL' as const;
  private client: ModalApi | null = null;

  constructor(private readonly options: ModalExecutorOptions) {}

  private async api(): Promise<ModalApi> {
    this.client ??= await this.options.connect();
    return this.client;
  }

  async preflight(): Promise<void> {
    const hasCredentials = this.options.hasCredentials ?? defaultHasCredentials;
    if (!hasCredentials()) {
      throw new ExecutorUnavailableError(
        'No Modal credentials: neither MODAL_TOKEN_ID/MODAL_TOKEN_SECRET nor ~/.modal.toml is set.',
        'modal/.venv/bin/modal token new   (or export MODAL_TOKEN_ID and MODAL_TOKEN_SECRET)',
      );
    }
    const api = await this.api();
    for (const name of Object.values(MODAL_FUNCTIONS)) {
      try {
        await api.functions.fromName(this.options.appName, name);
      } catch (error) {
        if (error instanceof NotFoundError) {
          throw new ExecutorUnavailableError(
            `Modal app "${this.options.appName}" has no deployed function "${name}".`,
            'cd modal && .venv/bin/modal secret create huggingface HF_TOKEN=<token> && .venv/bin/modal deploy app.py',
          );
        }
        throw error;
      }
    }
  }

  jobOutputDir(jobId: string): string {
    return path.posix.join(this.options.outputRoot ?? '/checkpoints', 'jobs', jobId);
  }

  async start(request: StageRequest, resources: StageResources): Promise<string> {
    const api = await this.api();
    const deployed = await api.functions.fromName(this.options.appName, MODAL_FUNCTIONS[request.stage]);
    // The job's GPU choice and timeout override what app.py deployed, per call.
    const gpu = resources.gpuCount > 1 ? `${resources.gpuType}:${resources.gpuCount}` : resources.gpuType;
    const fn = await deployed.withOptions({ gpu, timeoutMs: resources.timeoutHours * 3_600_000 }).instance();
    const call = await fn.spawn([request]);
    this.options.logger.info({ jobId: request.job_id, runId: request.run_id, stage: request.stage, functionCallId: call.functionCallId, gpu }, 'modal function call spawned');
    return call.functionCallId;
  }

  async poll(ref: string, request: StageRequest): Promise<StagePoll> {
    const api = await this.api();
    const events = await this.drainEvents(api, request.job_id);
    try {
      // fromId may itself fail with NotFoundError, so it sits inside the try.
      const call = await api.functionCalls.fromId(ref);
      const output = await call.get({ timeoutMs: 0 });
      // Events put just before the function returned may still be in the queue.
      events.push(...(await this.drainEvents(api, request.job_id)));
      return { events, state: 'finished', result: toResult(output) };
    } catch (error) {
      if (error instanceof TimeoutError) return { events, state: 'running' };
      if (error instanceof FunctionTimeoutError) {
        return { events, state: 'finished', result: { status: 'FAILED', error: `The Modal function exceeded its timeout: ${error.message}` } };
      }
      if (error instanceof RemoteError) {
        return { events, state: 'finished', result: { status: 'FAILED', error: `The pipeline raised on Modal: ${error.message}` } };
      }
      if (error instanceof InternalFailure) {
        return { events, state: 'lost', reason: `Modal reported an internal failure: ${error.message}` };
      }
      if (error instanceof NotFoundError) {
        return { events, state: 'lost', reason: `Modal no longer knows function call ${ref} (results are kept 7 days).` };
      }
      throw error;
    }
  }

  private async drainEvents(api: ModalApi, jobId: string): Promise<unknown[]> {
    const queue = await api.queues.fromName(this.options.eventsQueue, { createIfMissing: true });
    try {
      const items = await queue.getMany(EVENTS_PER_POLL, { partition: jobId, timeoutMs: 0 });
      return items.map((item) => (typeof item === 'string' ? safeParse(item) : item));
    } catch (error) {
      if (error instanceof QueueEmptyError) return [];
      throw error;
    }
  }

  async cancel(ref: string): Promise<boolean> {
    const api = await this.api();
    const call = await api.functionCalls.fromId(ref);
    await call.cancel({ terminateContainers: true });
    try {
      await call.get({ timeoutMs: 0 });
      return true;
    } catch (error) {
      // Still running: the caller asks again on its next pass.
      if (error instanceof TimeoutError) return false;
      return true;
    }
  }

  async close(): Promise<void> {
    const client = this.client as { close?: () => void } | null;
    client?.close?.();
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { invalidLine: text.slice(0, 500) };
  }
}

function toResult(output: unknown): StageResult {
  if (output && typeof output === 'object' && 'status' in output) return output as StageResult;
  return { status: 'FAILED', error: `The Modal function returned ${JSON.stringify(output)?.slice(0, 200)} instead of a result object.` };
}

function defaultHasCredentials(): boolean {
  if (process.env.MODAL_TOKEN_ID && process.env.MODAL_TOKEN_SECRET) return true;
  return existsSync(path.join(os.homedir(), '.modal.toml'));
}
