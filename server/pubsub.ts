import { EventEmitter } from 'node:events';

/**
 * Topics and payloads. Payloads carry ids and sequence numbers only;
 * subscribers re-read rows through Prisma so they always see committed state.
 */
export interface Topics {
  /** New events were stored for a job; `lastSeq` is the highest stored sequence. */
  'job:events': { jobId: string; lastSeq: number };
  /** A job's status, phase, progress or one of its runs changed. */
  'job:updated': { jobId: string };
  /** A job was created or changed state; for lists. */
  'jobs:changed': { jobId: string };
  /** A model version or one of its deployments changed. */
  'model:updated': { modelId: string };
}

export type TopicName = keyof Topics;

/** A live subscription: an async iterator that buffers from the moment it is created. */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  close(): void;
}

/**
 * In-process typed pub/sub. `subscribe` attaches its listener at once, before
 * the caller reads anything, so a subscriber can replay stored rows and then
 * stream live payloads without missing what was published in between.
 */
export class PubSub {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish<K extends TopicName>(topic: K, payload: Topics[K]): void {
    this.emitter.emit(topic, payload);
  }

  listenerCount(topic: TopicName): number {
    return this.emitter.listenerCount(topic);
  }

  subscribe<K extends TopicName>(topic: K, filter?: (payload: Topics[K]) => boolean): Subscription<Topics[K]> {
    const buffer: Topics[K][] = [];
    let wake: ((result: IteratorResult<Topics[K]>) => void) | null = null;
    let closed = false;

    const listener = (payload: Topics[K]) => {
      if (filter && !filter(payload)) return;
      if (wake) {
        const resolve = wake;
        wake = null;
        resolve({ value: payload, done: false });
      } else {
        buffer.push(payload);
      }
    };
    this.emitter.on(topic, listener);

    const close = () => {
      if (closed) return;
      closed = true;
      this.emitter.off(topic, listener);
      buffer.length = 0;
      if (wake) {
        const resolve = wake;
        wake = null;
        resolve({ value: undefined, done: true });
      }
    };

    const iterator: Subscription<Topics[K]> = {
      next: () => {
        if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
        if (closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          wake = resolve;
        });
      },
      return: () => {
        close();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw: (error?: unknown) => {
        close();
        return Promise.reject(error);
      },
      close,
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
