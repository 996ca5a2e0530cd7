import { FunctionTimeoutError, NotFoundError, QueueEmptyError, RemoteError, TimeoutError } from 'modal';
import type { ModalApi } from '../executors/modal.js';
import type { Logger } from '../logger.js';
import type { Completion, DeploymentRuntime, GateResult, ServingConfig } from './runtime.js';

export interface ModalRuntimeOptions {
  appName: string;
  /** Queue the serving function puts its tunnel URL into, partition `deploy-<deploymentId>`. */
  eventsQueue: string;
  logger: Logger;
  /** Creates the client on first use, so a server without Modal credentials still starts. */
  connect: () => Promise<ModalApi> | ModalApi;
  /** Maximum wait for the merge verification gate, in milliseconds (default 70 minutes). */
  verifyTimeoutMs?: number;
  /** Maximum wait for one base-model generation, in milliseconds (default 35 minutes). */
  generateTimeoutMs?: number;
  /** Maximum wait of one `get` call while waiting for a function call, in milliseconds (default 30 s). */
  waitStepMs?: number;
}

/** Functions of modal/app.py that deployments call by name. */
export const MODAL_DEPLOY_FUNCTIONS = { verify: 'verify_merged', generate: 'generate', serve: 'serve_model' } as const;

/** Modal's maximum per-call timeout; the serving function stops itself earlier when idle. */
const SERVE_TIMEOUT_MS = 24 * 3_600_000;

/**
 * Serves merged models with vLLM on Modal. A deployment is one spawned
 * `serve_model` call: its ref is `modal:<functionCallId>:<deploymentId>`, the
 * call's state is the server's state, and cancelling the call stops the GPU
 * container. The tunnel URL arrives later through the events Queue.
 */
export class ModalRuntime implements DeploymentRuntime {
  readonly kind = 'MODAL' as const;
  private client: ModalApi | null = null;
  /** Tunnel URLs already taken from the Queue, by deployment id, because reading removes them. */
  private readonly endpoints = new Map<string, string>();

  constructor(private readonly options: ModalRuntimeOptions) {}

  private async api(): Promise<ModalApi> {
    this.client ??= await this.options.connect();
    return this.client;
  }

  async verify(mergedPath: string, baseModel: string): Promise<GateResult> {
    const output = await this.call(MODAL_DEPLOY_FUNCTIONS.verify, { merged_path: mergedPath, base_model: baseModel }, this.options.verifyTimeoutMs ?? 70 * 60_000);
    if (!output || typeof output !== 'object' || typeof (output as GateResult).deployable !== 'boolean') {
      throw new Error(`verify_merged returned ${JSON.stringify(output)?.slice(0, 200)} instead of a gate result.`);
    }
    return output as GateResult;
  }

  async start(deploymentId: string, mergedPath: string, config: ServingConfig): Promise<{ ref: string; endpointUrl: string | null }> {
    const api = await this.api();
    const deployed = await api.functions.fromName(this.options.appName, MODAL_DEPLOY_FUNCTIONS.serve);
    // The deployment's GPU choice overrides the one app.py deployed, per call.
    const fn = await deployed.withOptions({ gpu: config.gpuType, timeoutMs: SERVE_TIMEOUT_MS }).instance();
    const request = {
      deployment_id: deploymentId,
      merged_path: mergedPath,
      max_concurrent_requests: config.maxConcurrentRequests,
      idle_timeout_seconds: config.idleTimeoutSeconds,
    };
    const call = await fn.spawn([request]);
    this.options.logger.info({ deploymentId, functionCallId: call.functionCallId, gpu: config.gpuType }, 'modal model server spawned');
    // The URL exists only once vLLM is healthy and the tunnel is open; endpoint() reads it.
    return { ref: `modal:${call.functionCallId}:${deploymentId}`, endpointUrl: null };
  }

  async endpoint(ref: string): Promise<string | null> {
    const { deploymentId } = parseRef(ref);
    const known = this.endpoints.get(deploymentId);
    if (known) return known;
    const api = await this.api();
    const queue = await api.queues.fromName(this.options.eventsQueue, { createIfMissing: true });
    let items: unknown[];
    try {
      items = await queue.getMany(10, { partition: `deploy-${deploymentId}`, timeoutMs: 0 });
    } catch (error) {
      if (error instanceof QueueEmptyError) return null;
      throw error;
    }
    // NOTE: the Queue has no peek, so a control-plane restart between this read and storing
    // the URL loses it. The deployment then fails its health-check timeout and can be redeployed.
    for (const item of items) {
      const message = typeof item === 'string' ? safeParse(item) : item;
      const url = (message as { url?: unknown } | null)?.url;
      if (typeof url === 'string' && /^https?:\/\//.test(url)) {
        this.endpoints.set(deploymentId, url);
        return url;
      }
      this.options.logger.warn({ deploymentId, item: String(typeof item === 'string' ? item : JSON.stringify(item)).slice(0, 200) }, 'ignored a deployment queue item without an http(s) url');
    }
    return null;
  }

  async isAlive(ref: string): Promise<boolean> {
    const { functionCallId } = parseRef(ref);
    const api = await this.api();
    try {
      const call = await api.functionCalls.fromId(functionCallId);
      await call.get({ timeoutMs: 0 });
      return false;
    } catch (error) {
      if (error instanceof TimeoutError) return true;
      if (error instanceof RemoteError || error instanceof FunctionTimeoutError || error instanceof NotFoundError) return false;
      throw error;
    }
  }

  async stop(ref: string): Promise<void> {
    const { functionCallId, deploymentId } = parseRef(ref);
    const api = await this.api();
    try {
      const call = await api.functionCalls.fromId(functionCallId);
      await call.cancel({ terminateContainers: true });
    } catch (error) {
      // A function call that Modal cannot find has no container left to stop.
      if (!(error instanceof NotFoundError)) throw error;
    }
    this.endpoints.delete(deploymentId);
    this.options.logger.info({ deploymentId, functionCallId }, 'modal model server cancelled');
  }

  async stoppedOnPurpose(ref: string): Promise<string | null> {
    const { functionCallId } = parseRef(ref);
    const api = await this.api();
    try {
      const call = await api.functionCalls.fromId(functionCallId);
      const output = (await call.get({ timeoutMs: 0 })) as { stopped?: unknown; message?: unknown } | null;
      if (typeof output?.stopped !== 'string') return null;
      return typeof output.message === 'string' ? output.message : `serve_model stopped: ${output.stopped}`;
    } catch {
      return null;
    }
  }

  async describeFailure(ref: string): Promise<string> {
    const { functionCallId } = parseRef(ref);
    const api = await this.api();
    try {
      const call = await api.functionCalls.fromId(functionCallId);
      const output = await call.get({ timeoutMs: 0 });
      const message = (output as { message?: unknown } | null)?.message;
      return typeof message === 'string' ? message : `serve_model returned ${JSON.stringify(output)?.slice(0, 200)}`;
    } catch (error) {
      if (error instanceof RemoteError || error instanceof FunctionTimeoutError) return error.message;
      if (error instanceof NotFoundError) return `Function call ${functionCallId} was not found on Modal, which keeps results for 7 days.`;
      if (error instanceof TimeoutError) return '';
      throw error;
    }
  }

  async generateWithBase(baseModel: string, prompt: string, reasoningEffort: string): Promise<Completion> {
    const started = Date.now();
    const output = (await this.call(MODAL_DEPLOY_FUNCTIONS.generate, { model: baseModel, prompt, reasoning_effort: reasoningEffort }, this.options.generateTimeoutMs ?? 35 * 60_000)) as {
      answer?: unknown;
      reasoning?: unknown;
      prompt_tokens?: unknown;
      completion_tokens?: unknown;
    } | null;
    if (typeof output?.answer !== 'string') throw new Error(`generate returned ${JSON.stringify(output)?.slice(0, 200)} without an answer string.`);
    return {
      answer: output.answer,
      reasoning: typeof output.reasoning === 'string' && output.reasoning.trim() ? output.reasoning : null,
      // Includes queueing and a possible cold start of the GPU container.
      latencyMs: Date.now() - started,
      promptTokens: typeof output.prompt_tokens === 'number' ? output.prompt_tokens : null,
      completionTokens: typeof output.completion_tokens === 'number' ? output.completion_tokens : null,
    };
  }

  /**
   * Spawns a function with one request and waits for its output. Each `get` waits at
   * most waitStepMs and throws TimeoutError while the call runs. Past timeoutMs the
   * call is cancelled and this throws.
   */
  private async call(name: string, request: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    const api = await this.api();
    const fn = await api.functions.fromName(this.options.appName, name);
    const { functionCallId } = await fn.spawn([request]);
    const call = await api.functionCalls.fromId(functionCallId);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        return await call.get({ timeoutMs: Math.min(this.options.waitStepMs ?? 30_000, remaining) });
      } catch (error) {
        if (error instanceof TimeoutError) continue;
        if (error instanceof RemoteError) throw new Error(`${name} raised on Modal: ${error.message}`);
        throw error;
      }
    }
    await call.cancel({ terminateContainers: true });
    throw new Error(`${name} on Modal timed out after ${timeoutMs / 1000} s (function call ${functionCallId}, cancelled).`);
  }
}

function parseRef(ref: string): { functionCallId: string; deploymentId: string } {
  const [scheme, functionCallId, deploymentId] = ref.split(':');
  if (scheme !== 'modal' || !functionCallId || !deploymentId) throw new Error(`Invalid Modal deployment ref ${JSON.stringify(ref)}; expected modal:<functionCallId>:<deploymentId>.`);
  return { functionCallId, deploymentId };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
