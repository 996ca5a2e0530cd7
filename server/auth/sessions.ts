import type { GraphQLError } from 'graphql';
import type { Principal } from './access.js';

interface LiveSubscription {
  group: string;
  keyId: string | null;
  controller: AbortController;
}

interface LiveSocket {
  keyId: string | null;
  close(code: number, reason: string): void;
}

/**
 * Live subscriptions and WebSocket connections, grouped by key, so that a cap per key
 * applies and a revoked key's subscriptions end at once.
 */
export class LiveSessions {
  private readonly subscriptions = new Set<LiveSubscription>();
  private readonly sockets = new Set<LiveSocket>();

  constructor(private readonly maxPerGroup: number) {}

  get limit(): number {
    return this.maxPerGroup;
  }

  /** Live subscriptions of all keys and connections. */
  get liveSubscriptions(): number {
    return this.subscriptions.size;
  }

  /**
   * Counts a new subscription, or returns null when its group is at the cap. The group is the
   * key, or the connection while the server runs open (no key to group by).
   */
  acquire(principal: Principal, connectionId: string): { signal: AbortSignal; release(): void } | null {
    const keyId = principal.kind === 'key' ? principal.key.id : null;
    const group = keyId ? `key:${keyId}` : `connection:${connectionId}`;
    let count = 0;
    for (const live of this.subscriptions) if (live.group === group) count += 1;
    if (count >= this.maxPerGroup) return null;
    const entry: LiveSubscription = { group, keyId, controller: new AbortController() };
    this.subscriptions.add(entry);
    return { signal: entry.controller.signal, release: () => this.subscriptions.delete(entry) };
  }

  /** Tracks a WebSocket and returns the function that stops tracking it. */
  addSocket(keyId: string | null, close: (code: number, reason: string) => void): () => void {
    const entry: LiveSocket = { keyId, close };
    this.sockets.add(entry);
    return () => this.sockets.delete(entry);
  }

  /** Ends every subscription and closes every socket of a key (null: those of open mode). */
  endKey(keyId: string | null, error: GraphQLError, closeCode: number): number {
    let ended = 0;
    for (const live of this.subscriptions) {
      if (live.keyId !== keyId) continue;
      live.controller.abort(error);
      ended += 1;
    }
    for (const socket of this.sockets) {
      if (socket.keyId !== keyId) continue;
      socket.close(closeCode, error.message.slice(0, 120));
      this.sockets.delete(socket);
    }
    return ended;
  }

  /** Ids of keys with a live subscription or socket. The id null is open mode. */
  liveKeys(): Set<string | null> {
    const keys = new Set<string | null>();
    for (const live of this.subscriptions) keys.add(live.keyId);
    for (const socket of this.sockets) keys.add(socket.keyId);
    return keys;
  }
}
