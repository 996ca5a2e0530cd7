import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

/** Connection to the API's WebSocket, shown in the banner. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

type StateListener = (state: ConnectionState) => void;

const GRAPHQL_PATH = '/graphql';
/** Reconnect delays grow from 500 ms and stop growing at 5 s, so a restarted server is found quickly. */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 5_000;

let state: ConnectionState = 'connecting';
const stateListeners = new Set<StateListener>();
const reconnectListeners = new Set<() => void>();

function setState(next: ConnectionState): void {
  if (next === state) return;
  state = next;
  for (const listener of stateListeners) listener(state);
}

function disconnectedState(): ConnectionState {
  return navigator.onLine ? 'reconnecting' : 'offline';
}

function websocketUrl(): string {
  const url = new URL(GRAPHQL_PATH, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * The WebSocket client. It connects at start-up (not lazily) so the banner reflects
 * the server's reachability on every page, and retries forever with backoff and jitter.
 */
export const wsClient: WsClient = createWsClient({
  url: websocketUrl,
  lazy: false,
  keepAlive: 10_000,
  retryAttempts: Number.POSITIVE_INFINITY,
  shouldRetry: () => true,
  retryWait: async (retries) => {
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** retries);
    await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
  },
  on: {
    connecting: (isRetry) => setState(isRetry ? disconnectedState() : 'connecting'),
    connected: (_socket, _payload, wasRetry) => {
      setState('connected');
      if (wasRetry) for (const listener of reconnectListeners) listener();
    },
    closed: () => setState(disconnectedState()),
  },
});

window.addEventListener('offline', () => setState('offline'));
window.addEventListener('online', () => {
  if (state === 'offline') setState('reconnecting');
});

/**
 * The urql client: queries and mutations over HTTP POST, subscriptions over graphql-ws.
 * No document cache: every view re-reads what it shows, and live views are fed by subscriptions.
 */
export const client = new Client({
  url: GRAPHQL_PATH,
  requestPolicy: 'network-only',
  preferGetMethod: false,
  exchanges: [
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const payload = { ...request, query: request.query ?? '' };
        return {
          subscribe(sink) {
            const unsubscribe = wsClient.subscribe(payload, sink);
            return { unsubscribe };
          },
        };
      },
    }),
  ],
});

export function connectionState(): ConnectionState {
  return state;
}

/** Calls `listener` on every change of connection state; returns the function that stops it. */
export function onConnectionState(listener: StateListener): () => void {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

/**
 * Calls `listener` after the WebSocket reconnects. graphql-ws re-sends each active subscription
 * with its original variables. Views that resume from an offset (jobEvents afterSeq) restart
 * their subscription here, so it resumes from the newest offset they rendered.
 */
export function onReconnect(listener: () => void): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}
