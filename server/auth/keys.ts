import { createHash, randomBytes } from 'node:crypto';
import type { ApiKey, PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';

/** Permissions of a key: `read` queries and subscriptions, `write` launch/cancel/retry/deploy, `admin` key management. */
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Secrets look like `td_` followed by 32 random bytes in base64url (43 characters). */
const SECRET_PREFIX = 'td_';
const SECRET_BYTES = 32;
/** Characters of the secret kept in clear as `prefix`, so listings can tell keys apart. */
const SHOWN_PREFIX_LENGTH = 10;
/** lastUsedAt is written at most once per key in this interval, so busy keys cost no write per request. */
const LAST_USED_INTERVAL_MS = 60_000;

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Thrown for a key name or scope list that cannot be stored. */
export class InvalidKeyRequest extends Error {
  override name = 'InvalidKeyRequest';
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Parses `read,write` into scopes; throws InvalidKeyRequest naming the unknown ones. */
export function parseScopes(values: readonly string[]): Scope[] {
  const scopes = values.map((value) => value.trim().toLowerCase()).filter(Boolean);
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0) throw new InvalidKeyRequest(`Unknown scope ${unknown.map((scope) => JSON.stringify(scope)).join(', ')}: use one or more of ${SCOPES.join(', ')}.`);
  if (scopes.length === 0) throw new InvalidKeyRequest(`A key needs at least one scope: ${SCOPES.join(', ')}.`);
  return SCOPES.filter((scope) => scopes.includes(scope));
}

function toInfo(row: ApiKey): ApiKeyInfo {
  return { id: row.id, name: row.name, prefix: row.prefix, scopes: parseScopes(row.scopes), createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

/**
 * API keys in the database. Only the sha256 hash of a secret is stored; the secret
 * itself is returned once, by `create`.
 */
export class KeyStore {
  private readonly lastUsedWrites = new Map<string, number>();
  private readonly revokeListeners = new Set<(keyId: string) => void>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger?: Logger,
  ) {}

  async create(name: string, scopeNames: readonly string[]): Promise<{ key: ApiKeyInfo; secret: string }> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 100) throw new InvalidKeyRequest(`Invalid key name ${JSON.stringify(name)}: use 1 to 100 characters.`);
    const scopes = parseScopes(scopeNames);
    const secret = SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
    const row = await this.prisma.apiKey.create({
      data: { name: trimmed, prefix: secret.slice(0, SHOWN_PREFIX_LENGTH), hash: hashSecret(secret), scopes },
    });
    this.logger?.info({ keyId: row.id, keyName: row.name, scopes }, 'API key created');
    return { key: toInfo(row), secret };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.prisma.apiKey.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return rows.map(toInfo);
  }

  /** Revokes a key; returns null when no key has this id. Revoking twice keeps the first time. */
  async revoke(id: string): Promise<ApiKeyInfo | null> {
    const existing = await this.prisma.apiKey.findUnique({ where: { id } });
    if (!existing) return null;
    const row = existing.revokedAt ? existing : await this.prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    if (!existing.revokedAt) this.logger?.info({ keyId: id, keyName: row.name }, 'API key revoked');
    for (const listener of this.revokeListeners) listener(id);
    return toInfo(row);
  }

  /** Calls `listener` with the key id each time `revoke` runs in this process. */
  onRevoke(listener: (keyId: string) => void): () => void {
    this.revokeListeners.add(listener);
    return () => this.revokeListeners.delete(listener);
  }

  async hasActiveKeys(): Promise<boolean> {
    return (await this.prisma.apiKey.count({ where: { revokedAt: null } })) > 0;
  }

  /** Returns the active key for a secret, or null for an unknown or revoked one. Records lastUsedAt. */
  async verify(secret: string): Promise<ApiKeyInfo | null> {
    if (!secret.startsWith(SECRET_PREFIX)) return null;
    const row = await this.prisma.apiKey.findUnique({ where: { hash: hashSecret(secret) } });
    if (!row || row.revokedAt) return null;
    this.touch(row.id);
    return toInfo(row);
  }

  /** True while the key exists and is not revoked. */
  async isActive(id: string): Promise<boolean> {
    const row = await this.prisma.apiKey.findUnique({ where: { id }, select: { revokedAt: true } });
    return row !== null && row.revokedAt === null;
  }

  /** Returns those of the given ids whose key is revoked or deleted. */
  async findInactive(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const active = await this.prisma.apiKey.findMany({ where: { id: { in: [...ids] }, revokedAt: null }, select: { id: true } });
    const activeIds = new Set(active.map((row) => row.id));
    return ids.filter((id) => !activeIds.has(id));
  }

  private touch(id: string): void {
    const now = Date.now();
    if (now - (this.lastUsedWrites.get(id) ?? 0) < LAST_USED_INTERVAL_MS) return;
    this.lastUsedWrites.set(id, now);
    this.prisma.apiKey.update({ where: { id }, data: { lastUsedAt: new Date(now) } }).catch((error: unknown) => {
      this.logger?.warn({ err: error, keyId: id }, 'recording lastUsedAt failed');
    });
  }
}
