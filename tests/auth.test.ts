import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApp } from '../server/app.js';
import { InsecureListenError } from '../server/auth/index.js';
import { loadConfig } from '../server/config.js';
import { databaseId } from '../schema/ids.js';
import { gql, startTestApp, testDatabaseUrl, waitFor, type TestApp } from './helpers/app.js';
import { LAUNCH, tinyJobInput } from './helpers/jobs.js';

const root = path.resolve(import.meta.dirname, '..');
const CREATE_KEY = 'mutation ($name: String!, $scopes: [ApiKeyScope!]!) { createApiKey(name: $name, scopes: $scopes) { __typename ... on CreateApiKeySuccess { data { secret key { id name prefix scopes } } } ... on InvalidApiKeyError { code message } } }';
const REVOKE_KEY = 'mutation ($id: ID!) { revokeApiKey(id: $id) { __typename ... on RevokeApiKeySuccess { data { id revokedAt } } } }';
const JOBS_CHANGED = 'subscription { jobsChanged { id status } }';

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** Creates a graphql-ws client that records how its socket closed. */
function socketClient(url: string, connectionParams: Record<string, unknown>) {
  const closes: { code: number; reason: string }[] = [];
  const client: Client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => void closes.push({ code: (event as CloseEvent).code, reason: (event as CloseEvent).reason }) },
  });
  return { client, closes };
}

/** Subscribes and records results, errors and completion. */
function subscribe(client: Client, query: string) {
  const state = { results: [] as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }[], failure: undefined as unknown, done: false };
  client.subscribe(
    { query },
    {
      next: (result) => void state.results.push(result as never),
      error: (error) => {
        state.failure = error;
        state.done = true;
      },
      complete: () => {
        state.done = true;
      },
    },
  );
  return state;
}

describe('API keys over HTTP', () => {
  let server: TestApp;
  const secrets: Record<'admin' | 'reader' | 'writer', string> = { admin: '', reader: '', writer: '' };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestApp({ orchestrate: false });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('runs open on loopback while no key exists', async () => {
    const warning = server.logs.find((line) => typeof line.msg === 'string' && line.msg.includes('No API key exists'));
    expect(warning?.level).toBe(40);
    const result = await gql(server.graphqlUrl, '{ gpuTypes { type } }');
    expect(result.errors).toBeUndefined();
    expect(result.data.gpuTypes.length).toBeGreaterThan(0);
  });

  it('creates the first admin key in open mode', async () => {
    const result = await gql(server.graphqlUrl, CREATE_KEY, { name: 'admin', scopes: ['ADMIN', 'READ', 'WRITE'] });
    const created = result.data.createApiKey.data;
    expect(created.secret).toMatch(/^td_[A-Za-z0-9_-]{43}$/);
    expect(created.key.scopes).toEqual(['READ', 'WRITE', 'ADMIN']);
    expect(created.secret.startsWith(created.key.prefix)).toBe(true);
    secrets.admin = created.secret;
  });

  it('stores only the sha256 of the secret', async () => {
    const rows = await server.app.services.prisma.apiKey.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.hash).toBe(createHash('sha256').update(secrets.admin).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(secrets.admin);
  });

  it('rejects a request without a key once one exists', async () => {
    const response = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ gpuTypes { type } }' }) });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0]!.message).toMatch(/Missing API key/);
  });

  it('rejects an unknown key', async () => {
    const result = await gql(server.graphqlUrl, '{ gpuTypes { type } }', {}, bearer(`td_${'A'.repeat(43)}`));
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(result.data).toBeUndefined();
  });

  it('lets an admin key create scoped keys', async () => {
    for (const [name, scopes] of [
      ['reader', ['READ']],
      ['writer', ['WRITE']],
    ] as const) {
      const result = await gql(server.graphqlUrl, CREATE_KEY, { name, scopes }, bearer(secrets.admin));
      secrets[name] = result.data.createApiKey.data.secret;
      ids[name] = databaseId(result.data.createApiKey.data.key.id, 'ApiKey');
    }
    expect(secrets.reader).not.toBe(secrets.writer);
  });

  it('reports an empty scope list as data', async () => {
    const result = await gql(server.graphqlUrl, CREATE_KEY, { name: 'none', scopes: [] }, bearer(secrets.admin));
    expect(result.data.createApiKey.__typename).toBe('InvalidApiKeyError');
    expect(result.data.createApiKey.message).toMatch(/at least one scope/);
  });

  it('lets a read key query but not launch', async () => {
    const query = await gql(server.graphqlUrl, '{ jobs { totalCount } }', {}, bearer(secrets.reader));
    expect(query.errors).toBeUndefined();
    const launch = await gql(server.graphqlUrl, LAUNCH, { input: tinyJobInput() }, bearer(secrets.reader));
    expect(launch.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(launch.errors?.[0]?.message).toMatch(/API key "reader".*Mutation\.launchJob/);
    expect(await server.app.services.prisma.job.count()).toBe(0);
  });

  it('lets a write key launch but not manage keys', async () => {
    const launch = await gql(server.graphqlUrl, LAUNCH, { input: tinyJobInput() }, bearer(secrets.writer));
    expect(launch.errors).toBeUndefined();
    expect(launch.data.launchJob.__typename).toBe('LaunchJobSuccess');
    const list = await gql(server.graphqlUrl, '{ apiKeys { id } }', {}, bearer(secrets.writer));
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const create = await gql(server.graphqlUrl, CREATE_KEY, { name: 'sneaky', scopes: ['ADMIN'] }, bearer(secrets.writer));
    expect(create.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await server.app.services.prisma.apiKey.count()).toBe(3);
  });

  it('keeps a read key from listing keys', async () => {
    const list = await gql(server.graphqlUrl, '{ apiKeys { id } }', {}, bearer(secrets.reader));
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lists keys for an admin without secrets', async () => {
    const result = await gql(server.graphqlUrl, '{ apiKeys { name prefix scopes revokedAt } }', {}, bearer(secrets.admin));
    expect(result.data.apiKeys.map((key: { name: string }) => key.name)).toEqual(['admin', 'reader', 'writer']);
    expect(JSON.stringify(result)).not.toContain(secrets.reader.slice(12));
  });

  it('records lastUsedAt at most once a minute', async () => {
    const first = await server.app.services.prisma.apiKey.findUniqueOrThrow({ where: { id: ids.reader! } });
    expect(first.lastUsedAt).toBeInstanceOf(Date);
    await gql(server.graphqlUrl, '{ jobs { totalCount } }', {}, bearer(secrets.reader));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await server.app.services.prisma.apiKey.findUniqueOrThrow({ where: { id: ids.reader! } });
    expect(second.lastUsedAt?.getTime()).toBe(first.lastUsedAt!.getTime());
  });

  it('rejects a revoked key at once', async () => {
    const cancel = 'mutation { cancelJob(id: "no-such-job") { __typename } }';
    const before = await gql(server.graphqlUrl, cancel, {}, bearer(secrets.writer));
    expect(before.data.cancelJob.__typename).toBe('NotFoundError');
    const revoked = await gql(server.graphqlUrl, REVOKE_KEY, { id: ids.writer }, bearer(secrets.admin));
    expect(revoked.data.revokeApiKey.data.revokedAt).toBeTruthy();
    const after = await gql(server.graphqlUrl, cancel, {}, bearer(secrets.writer));
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('requires a read key for log downloads', async () => {
    const jobId = (await server.app.services.prisma.job.findFirstOrThrow()).id;
    const anonymous = await fetch(`${server.url}/api/jobs/${jobId}/logs`);
    expect(anonymous.status).toBe(401);
    const reader = await fetch(`${server.url}/api/jobs/${jobId}/logs`, { headers: bearer(secrets.reader) });
    expect(reader.status).toBe(200);
  });

  it('rejects a simple GET without the CSRF header', async () => {
    const url = `${server.graphqlUrl}?query=${encodeURIComponent('{ gpuTypes { type } }')}`;
    const bare = await fetch(url);
    expect(bare.status).toBe(403);
    const withHeader = await fetch(url, { headers: { 'x-graphql-csrf': '1', ...bearer(secrets.reader) } });
    expect(withHeader.status).toBe(200);
  });

  it('rejects a text/plain POST as a CSRF attempt', async () => {
    const response = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ gpuTypes { type } }' }) });
    expect(response.status).toBe(403);
  });

  it('sends no CORS grant to an origin not on the list', async () => {
    const response = await fetch(server.graphqlUrl, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('API keys over WebSocket', () => {
  let server: TestApp;
  let admin: string;
  let reader: { id: string; secret: string };

  beforeAll(async () => {
    server = await startTestApp({ orchestrate: false });
    admin = (await server.app.services.access.keys.create('admin', ['read', 'write', 'admin'])).secret;
    server.app.services.access.keyCreated();
    const created = await server.app.services.access.keys.create('reader', ['read']);
    reader = { id: created.key.id, secret: created.secret };
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('closes a socket without a key with 4401', async () => {
    const { client, closes } = socketClient(server.wsUrl, {});
    const state = subscribe(client, JOBS_CHANGED);
    await waitFor(() => state.done, { message: 'rejected subscription' });
    expect(closes[0]?.code).toBe(4401);
    expect(closes[0]?.reason).toMatch(/Unauthorized: Missing API key/);
    await client.dispose();
  });

  it('closes a socket from a foreign origin with 4403', async () => {
    const closed = await new Promise<number>((resolve) => {
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { headers: { origin: 'https://evil.example' } });
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${admin}` } })));
      socket.on('close', (code) => resolve(code));
    });
    expect(closed).toBe(4403);
  });

  it('accepts a key in connectionParams.apiKey', async () => {
    const { client } = socketClient(server.wsUrl, { apiKey: reader.secret });
    const result = await new Promise<unknown>((resolve, reject) => {
      client.subscribe({ query: '{ gpuTypes { type } }' }, { next: resolve, error: reject, complete: () => {} });
    });
    expect((result as { data: { gpuTypes: unknown[] } }).data.gpuTypes.length).toBeGreaterThan(0);
    await client.dispose();
  });

  it('rejects the next subscribe of a key revoked elsewhere', async () => {
    const created = await server.app.services.access.keys.create('short-lived', ['read']);
    const { client, closes } = socketClient(server.wsUrl, { authorization: `Bearer ${created.secret}` });
    // A live subscription keeps the lazy client's socket open.
    subscribe(client, JOBS_CHANGED);
    await waitFor(() => server.app.services.access.sessions.liveKeys().has(created.key.id), { message: 'subscription registered' });
    // Revoked straight in the database, as the keys CLI does from another process.
    await server.app.services.prisma.apiKey.update({ where: { id: created.key.id }, data: { revokedAt: new Date() } });
    const second = subscribe(client, '{ gpuTypes { type } }');
    await waitFor(() => closes.length > 0, { message: 'socket close' });
    expect(closes[0]!.code).toBe(4403);
    // The reason the subscribe check gives, not the periodic sweep's.
    expect(closes[0]!.reason).toBe('Forbidden: this API key was revoked');
    expect(second.results.some((result) => result.data)).toBe(false);
    await client.dispose();
  });

  it('ends live subscriptions of a key revoked by mutation', async () => {
    const { client, closes } = socketClient(server.wsUrl, { authorization: `Bearer ${reader.secret}` });
    const live = subscribe(client, JOBS_CHANGED);
    await waitFor(() => server.app.services.access.sessions.liveKeys().has(reader.id), { message: 'subscription registered' });
    const revoked = await gql(server.graphqlUrl, REVOKE_KEY, { id: reader.id }, bearer(admin));
    expect(revoked.data.revokeApiKey.__typename).toBe('RevokeApiKeySuccess');
    await waitFor(() => closes.length > 0, { timeoutMs: 5_000, message: 'socket close after revoke' });
    expect(closes[0]!.code).toBe(4403);
    expect(live.done).toBe(true);
    await client.dispose();
  });

  it('ends live subscriptions of a key revoked elsewhere within seconds', async () => {
    const created = await server.app.services.access.keys.create('swept', ['read']);
    const { client, closes } = socketClient(server.wsUrl, { authorization: `Bearer ${created.secret}` });
    subscribe(client, JOBS_CHANGED);
    await waitFor(() => server.app.services.access.sessions.liveKeys().has(created.key.id), { message: 'subscription registered' });
    await server.app.services.prisma.apiKey.update({ where: { id: created.key.id }, data: { revokedAt: new Date() } });
    await waitFor(() => closes.length > 0, { timeoutMs: 10_000, message: 'socket close after the periodic sweep' });
    expect(closes[0]!.code).toBe(4403);
    await client.dispose();
  });

  it('ends an SSE subscription of a revoked key', async () => {
    const created = await server.app.services.access.keys.create('sse', ['read']);
    const response = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent(JOBS_CHANGED)}`, { headers: { accept: 'text/event-stream', ...bearer(created.secret) } });
    expect(response.status).toBe(200);
    await waitFor(() => server.app.services.access.sessions.liveKeys().has(created.key.id), { message: 'SSE subscription registered' });
    await server.app.services.access.keys.revoke(created.key.id);
    const text = await response.text();
    expect(text).toContain('This API key was revoked.');
    expect(text).toContain('event: complete');
  });
});

describe('start-up', () => {
  it('rejects a non-loopback address without a key', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-auth-'));
    const databaseUrl = await testDatabaseUrl();
    const config = loadConfig({ TUNEDECK_DATA_DIR: dataDir, TUNEDECK_HOST: '0.0.0.0', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) });
    const app = await createApp({ config, logger: pino({ level: 'silent' }), orchestrate: false });
    try {
      // The check runs before listen, so nothing is bound to 0.0.0.0.
      await expect(app.start(0, '0.0.0.0')).rejects.toThrow(InsecureListenError);
      await expect(app.start(0, '0.0.0.0')).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without an API key.*TUNEDECK_ALLOW_INSECURE=true/);
      expect(app.server.listening).toBe(false);
      await app.services.access.keys.create('ops', ['admin']);
      await expect(app.services.access.checkListen('0.0.0.0')).resolves.toBeUndefined();
    } finally {
      await app.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('allows 0.0.0.0 without a key when insecure mode is set', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-auth-'));
    const databaseUrl = await testDatabaseUrl();
    const config = loadConfig({ TUNEDECK_DATA_DIR: dataDir, TUNEDECK_ALLOW_INSECURE: 'true', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) });
    const app = await createApp({ config, logger: pino({ level: 'silent' }), orchestrate: false });
    try {
      await expect(app.services.access.checkListen('0.0.0.0')).resolves.toBeUndefined();
      expect(app.services.access.authenticator.isOpen).toBe(true);
    } finally {
      await app.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('keys command', () => {
  const run = promisify(execFile);
  let dataDir: string;
  const keys = (args: string[]) => {
    const { DATABASE_URL: _unused, ...env } = process.env;
    return run(process.execPath, ['--import', 'tsx', 'server/cli/keys.ts', ...args], { cwd: root, env: { ...env, TUNEDECK_DATA_DIR: dataDir } });
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-keys-cli-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates, lists and revokes a key', async () => {
    const created = await keys(['create', '--name', 'ci', '--scopes', 'read,write', '--json']);
    const key = JSON.parse(created.stdout) as { id: string; secret: string; scopes: string[] };
    expect(key.scopes).toEqual(['read', 'write']);
    expect(key.secret).toMatch(/^td_/);

    const listed = await keys(['list']);
    expect(listed.stdout).toContain(`${key.id}  ci  ${key.secret.slice(0, 10)}…  read,write  last used never  active`);
    expect(listed.stdout).not.toContain(key.secret);

    const revoked = await keys(['revoke', key.id]);
    expect(revoked.stdout).toMatch(/^Revoked API key/);
    expect((await keys(['list'])).stdout).toMatch(/revoked \d{4}-/);
  });

  it('rejects an unknown scope', async () => {
    await expect(keys(['create', '--name', 'x', '--scopes', 'root'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown scope "root"/) });
  });
});
