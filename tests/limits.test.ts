import { getOperationAST, print, type DocumentNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dashboard from '../web/src/gql/graphql.js';
import { gql, startTestApp, waitFor, type TestApp } from './helpers/app.js';
import { JOB_DETAIL, LAUNCH, tinyJobInput } from './helpers/jobs.js';
import { collect, wsClient } from './helpers/ws.js';

const LIMIT_CODES = ['QUERY_TOO_DEEP', 'QUERY_TOO_COSTLY', 'TOO_MANY_ALIASES', 'TOO_MANY_DIRECTIVES', 'TOO_MANY_TOKENS', 'RATE_LIMITED', 'TOO_MANY_SUBSCRIPTIONS'];

type Result = Awaited<ReturnType<typeof gql>>;
const codes = (result: Result) => (result.errors ?? []).map((error) => error.extensions?.code);

/** Every operation the dashboard sends, from the generated documents. */
const dashboardOperations = Object.entries(dashboard)
  .filter(([name]) => name.endsWith('Document'))
  .map(([name, document]) => ({ name, document: document as unknown as DocumentNode, operation: getOperationAST(document as unknown as DocumentNode)!.operation }));

describe('limits at their defaults', () => {
  let server: TestApp;
  let jobId: string;
  let runId: string;

  beforeAll(async () => {
    server = await startTestApp({ orchestrate: false });
    const launched = await gql(server.graphqlUrl, LAUNCH, { input: tinyJobInput() });
    jobId = launched.data.launchJob.data.job.id;
    runId = launched.data.launchJob.data.job.runs[0].id;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('finds the dashboard operations', () => {
    expect(dashboardOperations.length).toBeGreaterThanOrEqual(10);
  });

  // Only limit errors count here: operations whose variables this test cannot fill
  // (a model id, say) may fail for other reasons.
  it('passes every dashboard query and mutation', async () => {
    const variables = { id: jobId, runId, input: tinyJobInput(), after: null };
    for (const { name, document } of dashboardOperations.filter((entry) => entry.operation !== 'subscription')) {
      const result = await gql(server.graphqlUrl, print(document), variables);
      expect({ name, limited: codes(result).filter((code) => LIMIT_CODES.includes(code as string)) }).toEqual({ name, limited: [] });
    }
  });

  it('passes every dashboard subscription', async () => {
    const client = wsClient(server.wsUrl);
    for (const { name, document } of dashboardOperations.filter((entry) => entry.operation === 'subscription')) {
      const live = collect(client, print(document), { id: jobId, jobId, afterSeq: 0 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      live.dispose();
      const limited = live.errors.map((error) => (error as { extensions?: { code?: string } }).extensions?.code).filter((code) => LIMIT_CODES.includes(code as string));
      expect({ name, limited }).toEqual({ name, limited: [] });
    }
    await client.dispose();
  });

  it('passes the test job detail query', async () => {
    const result = await gql(server.graphqlUrl, JOB_DETAIL, { id: jobId });
    expect(result.errors).toBeUndefined();
    expect(result.data.job.id).toBe(jobId);
  });

  it('rejects a query nested too deep', async () => {
    // jobs > edges > node, then runs > job four times, then runs > id: 13 levels.
    const inner = 'runs { job { '.repeat(4) + 'runs { id }' + ' } }'.repeat(4);
    const nested = `{ jobs { edges { node { ${inner} } } } }`;
    const result = await gql(server.graphqlUrl, nested);
    expect(codes(result)).toEqual(['QUERY_TOO_DEEP']);
    expect(result.errors![0]!.message).toMatch(/^Query depth limit of 12 exceeded, found 13\./);
  });

  it('rejects nested pages that cost too much', async () => {
    const result = await gql(server.graphqlUrl, '{ jobs(first: 100) { edges { node { events(first: 1000) { edges { node { id data } } } } } } }');
    expect(codes(result)).toEqual(['QUERY_TOO_COSTLY']);
    expect(result.errors![0]!.message).toMatch(/^Query Cost limit of 500000 exceeded/);
  });

  it('counts page sizes passed as variables', async () => {
    const query = 'query ($jobs: Int, $events: Int) { jobs(first: $jobs) { edges { node { events(first: $events) { edges { node { id data } } } } } } }';
    const small = await gql(server.graphqlUrl, query, { jobs: 2, events: 10 });
    expect(small.errors).toBeUndefined();
    const large = await gql(server.graphqlUrl, query, { jobs: 100, events: 1000 });
    expect(codes(large)).toEqual(['QUERY_TOO_COSTLY']);
  });

  it('rejects too many aliases', async () => {
    const aliases = Array.from({ length: 16 }, (_, index) => `a${index}: gpuTypes { type }`).join(' ');
    const result = await gql(server.graphqlUrl, `{ ${aliases} }`);
    expect(codes(result)).toEqual(['TOO_MANY_ALIASES']);
  });

  it('rejects too many directives', async () => {
    const fields = Array.from({ length: 11 }, () => 'type @include(if: true)').join(' ');
    const result = await gql(server.graphqlUrl, `{ gpuTypes { ${fields} } }`);
    expect(codes(result)).toEqual(['TOO_MANY_DIRECTIVES']);
  });

  it('rejects a document with too many tokens', async () => {
    const result = await gql(server.graphqlUrl, `{ gpuTypes { ${'type '.repeat(2100)} } }`);
    expect(codes(result)).toEqual(['TOO_MANY_TOKENS']);
    expect(result.errors![0]!.message).toMatch(/Token limit of 2000 exceeded/);
  });

  it('rejects a body over the size limit', async () => {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ gpuTypes { type } }', variables: { padding: 'x'.repeat(300_000) } }),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as Result;
    expect(codes(body)).toEqual(['REQUEST_ENTITY_TOO_LARGE']);
  });

  it('caps a connection page at its maximum size', async () => {
    const template = await server.app.services.prisma.job.findFirstOrThrow();
    const { id: _id, createdAt: _createdAt, idempotencyKey: _key, ...fields } = template;
    const before = await server.app.services.prisma.job.count();
    await server.app.services.prisma.job.createMany({ data: Array.from({ length: 101 }, () => ({ ...fields, training: fields.training as object, estimate: fields.estimate as object })) });
    const result = await gql(server.graphqlUrl, '{ jobs(first: 150) { totalCount edges { node { id } } pageInfo { hasNextPage } } }');
    expect(result.errors).toBeUndefined();
    expect(result.data.jobs.totalCount).toBe(before + 101);
    expect(result.data.jobs.edges).toHaveLength(100);
    expect(result.data.jobs.pageInfo.hasNextPage).toBe(true);
  });

  it('masks an unexpected error and logs it with its ids', async () => {
    const jobs = server.app.services.jobs;
    const original = jobs.estimate;
    jobs.estimate = () => {
      throw new Error('disk full at /var/lib/tunedeck/secret-path');
    };
    try {
      const result = await gql(server.graphqlUrl, 'query ($input: LaunchJobInput!) { estimateJob(input: $input) { __typename } }', { input: tinyJobInput() }, { 'x-request-id': 'request-masking-1' });
      const error = result.errors![0]!;
      expect(error.message).toBe('Unexpected error.');
      expect(error.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(error.extensions?.requestId).toBe('request-masking-1');
      expect(error.extensions?.errorId).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(result)).not.toContain('disk full');
      const logged = server.logs.find((line) => line.errorId === error.extensions?.errorId);
      expect(logged?.requestId).toBe('request-masking-1');
      expect(logged?.level).toBe(50);
      expect(JSON.stringify(logged)).toContain('disk full at /var/lib/tunedeck/secret-path');
    } finally {
      jobs.estimate = original;
    }
  });

  it('keeps expected errors with their codes', async () => {
    const result = await gql(server.graphqlUrl, '{ job(id: "x") { id } gpuTypes { nope } }');
    expect(result.errors![0]!.message).toMatch(/Cannot query field "nope"/);
    expect(result.errors![0]!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('per-key limits', () => {
  let server: TestApp;
  let secret: string;
  const headers = () => ({ authorization: `Bearer ${secret}` });

  beforeAll(async () => {
    server = await startTestApp({ orchestrate: false, env: { TUNEDECK_MUTATION_BURST: '3', TUNEDECK_MUTATIONS_PER_MINUTE: '1', TUNEDECK_MAX_SUBSCRIPTIONS: '2' } });
    secret = (await server.app.services.access.keys.create('limited', ['read', 'write'])).secret;
    server.app.services.access.keyCreated();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('rate-limits mutations per key', async () => {
    const cancel = 'mutation { cancelJob(id: "no-such-job") { __typename } }';
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const allowed = await gql(server.graphqlUrl, cancel, {}, headers());
      expect(allowed.data.cancelJob.__typename).toBe('NotFoundError');
    }
    const response = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers() }, body: JSON.stringify({ query: cancel }) });
    expect(response.status).toBe(429);
    const limited = (await response.json()) as Result;
    expect(codes(limited)).toEqual(['RATE_LIMITED']);
    expect(limited.errors![0]!.message).toMatch(/API key "limited": the limit is 1 per minute with bursts of 3\. Retry in \d+ s\./);
    expect(limited.errors![0]!.extensions?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('does not rate-limit queries', async () => {
    const result = await gql(server.graphqlUrl, '{ gpuTypes { type } }', {}, headers());
    expect(result.errors).toBeUndefined();
  });

  it('caps live subscriptions per key across connections', async () => {
    const first = wsClient(server.wsUrl, { authorization: `Bearer ${secret}` });
    const second = wsClient(server.wsUrl, { authorization: `Bearer ${secret}` });
    const a = collect(first, 'subscription { jobsChanged { id } }');
    const b = collect(second, 'subscription { jobsChanged { id } }');
    await waitFor(() => countLive(server) === 2, { message: 'two live subscriptions' });
    const c = collect(second, 'subscription { jobsChanged { id } }');
    await waitFor(() => c.errors.length > 0, { message: 'third subscription rejected' });
    expect((c.errors[0] as { extensions: { code: string } }).extensions.code).toBe('TOO_MANY_SUBSCRIPTIONS');

    a.dispose();
    await waitFor(() => countLive(server) === 1, { message: 'released subscription' });
    const d = collect(second, 'subscription { jobsChanged { id } }');
    await waitFor(() => countLive(server) === 2, { message: 'replacement subscription' });
    expect(d.errors).toEqual([]);
    b.dispose();
    d.dispose();
    await first.dispose();
    await second.dispose();
  });
});

describe('open-mode subscription cap', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startTestApp({ orchestrate: false, env: { TUNEDECK_MAX_SUBSCRIPTIONS: '1' } });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('caps subscriptions per connection', async () => {
    const first = wsClient(server.wsUrl);
    const second = wsClient(server.wsUrl);
    const a = collect(first, 'subscription { jobsChanged { id } }');
    const b = collect(second, 'subscription { jobsChanged { id } }');
    await waitFor(() => countLive(server) === 2, { message: 'one subscription on each connection' });
    const c = collect(first, 'subscription { jobsChanged { id } }');
    await waitFor(() => c.errors.length > 0, { message: 'second subscription on one connection rejected' });
    expect((c.errors[0] as { extensions: { code: string } }).extensions.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    a.dispose();
    b.dispose();
    await first.dispose();
    await second.dispose();
  });
});

describe('secrets', () => {
  const names = ['MODAL_TOKEN_ID', 'MODAL_TOKEN_SECRET', 'HF_TOKEN'] as const;
  const saved: Record<string, string | undefined> = {};
  let server: TestApp;

  beforeAll(async () => {
    for (const name of names) {
      saved[name] = process.env[name];
      process.env[name] = `${name.toLowerCase()}-value-that-must-not-leak`;
    }
    server = await startTestApp({ orchestrate: false });
  });

  afterAll(async () => {
    await server?.stop();
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('keeps Modal and Hugging Face tokens out of rows, responses and logs', async () => {
    const launched = await gql(server.graphqlUrl, LAUNCH, { input: tinyJobInput() });
    const detail = await gql(server.graphqlUrl, JOB_DETAIL, { id: launched.data.launchJob.data.job.id });
    const rows = await server.app.services.prisma.job.findMany({ include: { runs: true } });
    const everything = JSON.stringify([launched, detail, rows, server.logs]);
    expect(everything).not.toContain('must-not-leak');
    expect(rows).toHaveLength(1);
  });
});

function countLive(server: TestApp): number {
  return server.app.services.access.sessions.liveSubscriptions;
}
