import { NotFoundError, QueueEmptyError, RemoteError, TimeoutError } from 'modal';
import type { ModalApi, ModalFunction } from '../../server/executors/modal.js';

export interface FakeCall {
  id: string;
  functionName: string;
  args: unknown[];
  options: { gpu?: string; timeoutMs?: number };
  result?: unknown;
  remoteError?: string;
  cancelled: boolean;
}

/**
 * Fake of the part of Modal's JS SDK the executor uses (test double for
 * Modal's API, which this machine cannot reach). It throws the SDK's own
 * error classes, so the executor's error handling is exercised for real.
 */
export class FakeModal implements ModalApi {
  readonly deployed = new Set<string>();
  readonly calls = new Map<string, FakeCall>();
  readonly queue = new Map<string, unknown[]>();
  /** Plays the remote side of a function: runs on every spawn of that function name. */
  readonly handlers = new Map<string, (call: FakeCall) => void>();
  private nextId = 1;

  constructor(readonly appName: string, functions: string[]) {
    for (const name of functions) this.deployed.add(`${appName}/${name}`);
  }

  functions = {
    fromName: async (appName: string, name: string) => {
      if (!this.deployed.has(`${appName}/${name}`)) throw new NotFoundError(`Function '${appName}/${name}' not found`);
      return this.fn(name, {});
    },
  };

  functionCalls = {
    fromId: async (id: string) => {
      const call = this.calls.get(id);
      if (!call) throw new NotFoundError(`Function call ${id} not found`);
      return {
        get: async (params?: { timeoutMs?: number }) => {
          const settled = () => call.remoteError !== undefined || call.result !== undefined || call.cancelled;
          // Like the SDK, a positive timeout waits for the call (here briefly) before giving up.
          const waitUntil = Date.now() + Math.min(params?.timeoutMs ?? 0, 50);
          while (!settled() && Date.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 5));
          if (call.remoteError) throw new RemoteError(call.remoteError);
          if (call.result !== undefined) return call.result;
          if (call.cancelled) throw new RemoteError('InputCancellation: the function call was cancelled');
          throw new TimeoutError(`Timeout exceeded: ${params?.timeoutMs ?? 0}ms`);
        },
        cancel: async (params?: { terminateContainers?: boolean }) => {
          call.cancelled = params?.terminateContainers === true;
        },
      };
    },
  };

  queues = {
    fromName: async (_name: string, _params?: { createIfMissing?: boolean }) => ({
      getMany: async (n: number, params?: { timeoutMs?: number; partition?: string }) => {
        const items = this.queue.get(params?.partition ?? '') ?? [];
        if (items.length === 0) throw new QueueEmptyError('Queue is empty');
        return items.splice(0, n);
      },
    }),
  };

  private fn(name: string, options: { gpu?: string; timeoutMs?: number }): ModalFunction {
    return {
      spawn: async (args: unknown[] = []) => {
        const id = `fc-${this.nextId++}`;
        const call: FakeCall = { id, functionName: name, args, options, cancelled: false };
        this.calls.set(id, call);
        this.handlers.get(name)?.(call);
        return { functionCallId: id };
      },
      withOptions: (next) => ({ instance: async () => this.fn(name, { ...options, ...next }) }),
    };
  }

  /** Puts events into a job's partition as the Python side does: JSON strings. */
  put(jobId: string, events: unknown[]): void {
    const items = this.queue.get(jobId) ?? [];
    items.push(...events.map((event) => JSON.stringify(event)));
    this.queue.set(jobId, items);
  }

  lastCall(functionName: string): FakeCall | undefined {
    return [...this.calls.values()].filter((call) => call.functionName === functionName).at(-1);
  }
}
