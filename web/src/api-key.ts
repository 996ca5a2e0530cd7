/** API key storage for the dashboard: one key per browser profile, kept in localStorage. */

const STORAGE_KEY = 'tunedeck.apiKey';
/** Header that lets a GET request pass the server's CSRF prevention; any value works. */
export const CSRF_HEADER = 'x-graphql-csrf';

type KeyListener = (key: string | null) => void;
type RejectionListener = () => void;

const keyListeners = new Set<KeyListener>();
const rejectionListeners = new Set<RejectionListener>();
/** In-memory copy, also used when localStorage is unavailable (storage disabled or full). */
let currentKey: string | null = readStoredKey();

function readStoredKey(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function writeStoredKey(key: string | null): void {
  try {
    if (key === null) window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, key);
  } catch (error) {
    console.warn('Could not store the API key in localStorage; it lasts until this page closes.', error);
  }
}

export function apiKey(): string | null {
  return currentKey;
}

/** Stores `key` (or removes it when null or blank) and notifies listeners when it changed. */
export function setApiKey(key: string | null): void {
  const next = key?.trim() || null;
  if (next === currentKey) return;
  currentKey = next;
  writeStoredKey(next);
  for (const listener of keyListeners) listener(next);
}

/** Calls `listener` after the stored key changes; returns the function that stops it. */
export function onApiKeyChange(listener: KeyListener): () => void {
  keyListeners.add(listener);
  return () => keyListeners.delete(listener);
}

/** Notifies listeners that the server rejected a request as unauthenticated (HTTP 401 or WebSocket 4401/4403). */
export function reportRejectedKey(): void {
  for (const listener of rejectionListeners) listener();
}

/** Calls `listener` each time the server rejects the key or its absence. */
export function onKeyRejected(listener: RejectionListener): () => void {
  rejectionListeners.add(listener);
  return () => rejectionListeners.delete(listener);
}

/** Headers for HTTP requests to the API: the key as a bearer token when one is set, and the CSRF header. */
export function apiHeaders(): Record<string, string> {
  const headers: Record<string, string> = { [CSRF_HEADER]: '1' };
  if (currentKey) headers.authorization = `Bearer ${currentKey}`;
  return headers;
}
