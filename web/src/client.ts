import { Client, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { apiHeaders, apiKey, onApiKeyChange, reportRejectedKey } from './api-key.js';

/** Connection to the API's WebSocket, shown in the banner. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'unauthorized';

type StateListener = (state: ConnectionState) => void;

const GRAPHQL_PATH = '/graphql';
/** Reconnect delays grow from 500 ms and stop growing at 5 s, so a restarted server is found quickly. */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 5_000;
/** Close codes of a rejected socket: 4401 for a missing or invalid key, 4403 for a revoked key or a forbidden origin. */
const WS_UNAUTHORIZED = 4401;
const WS_FORBIDDEN = 4403;

let state: ConnectionState = 'connecting';
let clientGeneration = 0;
const stateListeners = new Set<StateListener>();
const reconnectListeners = new Set<() => void>();
const resetListeners = new Set<() => void>();

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

function isAuthClose(event: unknown): boolean {
  const code = (event as { code?: unknown } | null)?.code;
  return code === WS_UNAUTHORIZED || code === WS_FORBIDDEN;
}

/**
 * Creates the WebSocket client for the current key. It connects at start-up (not lazily) so
 * the banner reflects the server's reachability on every page, and retries forever with
 * backoff and jitter. It stops after a 4401/4403 close, because the same key would be rejected again.
 */
function createSocketClient(): WsClient {
  const key = apiKey();
  // The handlers act only while this client is current, because a replaced client still reports
  // its own closing. This is a counter, not the client itself, because `connecting` can fire
  // before createWsClient returns.
  const generation = ++clientGeneration;
  const isCurrent = () => generation === clientGeneration;
  return createWsClient({
    url: websocketUrl,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    // graphql-ws 6 never retries 4401 itself; 4403 needs this check.
    shouldRetry: (event) => !isAuthClose(event),
    retryWait: async (retries) => {
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** retries);
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
    },
    // The default reports a rejected start-up connection with console.error; the banner shows it instead.
    onNonLazyError: () => {},
    on: {
      connecting: (isRetry) => {
        if (isCurrent()) setState(isRetry ? disconnectedState() : 'connecting');
      },
      connected: (_socket, _payload, wasRetry) => {
        if (!isCurrent()) return;
        setState('connected');
        if (wasRetry) for (const listener of reconnectListeners) listener();
      },
      closed: (event) => {
        if (!isCurrent()) return;
        if (isAuthClose(event)) {
          setState('unauthorized');
          reportRejectedKey();
        } else {
          setState(disconnectedState());
        }
      },
    },
  });
}

let wsClient: WsClient = createSocketClient();

// A new key needs a new socket because graphql-ws sends connectionParams only when it connects.
// Disposing the old client ends its subscriptions, so reset listeners re-render the views.
onApiKeyChange(() => {
  const previous = wsClient;
  setState('connecting');
  wsClient = createSocketClient();
  void previous.dispose();
  for (const listener of resetListeners) listener();
});

window.addEventListener('offline', () => setState('offline'));
window.addEventListener('online', () => {
  if (state === 'offline') setState('reconnecting');
});

function isUnauthenticated(error: CombinedError): boolean {
  const status = (error.response as Response | undefined)?.status;
  return status === 401 || error.graphQLErrors.some((graphQLError) => graphQLError.extensions?.code === 'UNAUTHENTICATED');
}

/**
 * The urql client: queries and mutations over HTTP POST, subscriptions over graphql-ws.
 * No document cache: every view re-reads what it shows, and live views are fed by subscriptions.
 * Headers are read per request, so a new key applies to the next request.
 */
export const client = new Client({
  url: GRAPHQL_PATH,
  requestPolicy: 'network-only',
  preferGetMethod: false,
  fetchOptions: () => ({ headers: apiHeaders() }),
  exchanges: [
    mapExchange({
      onError(error) {
        if (isUnauthenticated(error)) reportRejectedKey();
      },
    }),
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

/** Calls `listener` after the API key changed and the socket was replaced; views must re-query and re-subscribe. */
export function onClientReset(listener: () => void): () => void {
  resetListeners.add(listener);
  return () => resetListeners.delete(listener);
}
