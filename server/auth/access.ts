import { isIP } from 'node:net';
import { GraphQLError } from 'graphql';
import type { ApiKeyInfo, KeyStore, Scope } from './keys.js';

/** Sender of a request: a key with its scopes, or anyone while the server runs open. */
export type Principal = { kind: 'key'; key: ApiKeyInfo; scopes: ReadonlySet<Scope> } | { kind: 'open'; scopes: ReadonlySet<Scope> };

const ALL_SCOPES: ReadonlySet<Scope> = new Set(['read', 'write', 'admin']);

/** Stable `extensions.code` values of authentication failures. */
export const AUTH_CODES = { unauthenticated: 'UNAUTHENTICATED', forbidden: 'FORBIDDEN' } as const;

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: AUTH_CODES.unauthenticated, http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } } });
}

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: AUTH_CODES.forbidden, http: { status: 403 } } });
}

/** True for 127.0.0.0/8, ::1 and `localhost`: addresses other machines cannot reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.startsWith('::ffff:127.');
  return false;
}

/** Extracts the secret from `Bearer <secret>`; a bare secret is accepted too (graphql-ws connectionParams). */
export function secretFromAuthorization(value: string | null | undefined): string | null {
  if (!value) return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(value);
  if (match) return match[1]!;
  return /^\S+$/.test(value.trim()) ? value.trim() : null;
}

/**
 * Decides who a request comes from. Open mode applies while no active key exists and
 * the server may run open (loopback, or TUNEDECK_ALLOW_INSECURE=true); a presented
 * secret is always checked, even then.
 */
export class Authenticator {
  /** Cached result of `KeyStore.hasActiveKeys`, updated by `refresh` and `keyCreated`. */
  private activeKeys = true;
  private openAllowed = false;

  constructor(private readonly store: KeyStore) {}

  /** Reads whether any active key exists; call at start-up and periodically. */
  async refresh(): Promise<boolean> {
    this.activeKeys = await this.store.hasActiveKeys();
    return this.activeKeys;
  }

  /** Sets whether the server may run open once no active key exists (decided when it starts listening). */
  allowOpen(allowed: boolean): void {
    this.openAllowed = allowed;
  }

  get isOpen(): boolean {
    return this.openAllowed && !this.activeKeys;
  }

  /** Marks that a key now exists, so open mode ends before the next periodic refresh. */
  keyCreated(): void {
    this.activeKeys = true;
  }

  /** Returns the principal for a secret (or its absence); throws UNAUTHENTICATED when rejected. */
  async authenticate(secret: string | null): Promise<Principal> {
    if (secret) {
      const key = await this.store.verify(secret);
      if (!key) throw unauthenticated('Invalid or revoked API key. Create a key with `npm run keys -- create --name NAME --scopes read` and send it as `Authorization: Bearer <key>`.');
      return { kind: 'key', key, scopes: new Set(key.scopes) };
    }
    if (this.isOpen) return { kind: 'open', scopes: ALL_SCOPES };
    throw unauthenticated('Missing API key: send `Authorization: Bearer <key>` (HTTP) or `connectionParams.authorization` (WebSocket).');
  }
}
