import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseId } from '../schema/ids.js';
import { gql, startTestApp, waitFor, type TestApp } from './helpers/app.js';
import { JOB_DETAIL, LAUNCH, tinyJobInput } from './helpers/jobs.js';
import { collect, wsClient } from './helpers/ws.js';

// The whole path on this machine: GraphQL launch -> orchestrator -> local
// executor -> `python -m finetune stage` on the tiny CPU model -> events ->
// subscriptions -> merge -> model registry.
describe('two-dataset job on the local executor', () => {
  let server: TestApp;
  let jobId: string;
  let detail: any;
  const statuses: string[] = [];
  let events: { seq: number; type: string; data: any; runId: string | null }[] = [];

  beforeAll(async () => {
    server = await startTestApp();
    const launched = await gql(server.graphqlUrl, LAUNCH, { input: tinyJobInput({ idempotencyKey: 'e2e-1' }) });
    expect(launched.errors).toBeUndefined();
    expect(launched.data.launchJob.__typename).toBe('LaunchJobSuccess');
    jobId = launched.data.launchJob.data.job.id;

    const client = wsClient(server.wsUrl);
    const updates = collect<{ jobUpdated: { status: string } }>(client, 'subscription ($id: ID!) { jobUpdated(id: $id) { status } }', { id: jobId });
    const stream = collect<{ jobEvents: { seq: number; type: string; data: any; runId: string | null } }>(
      client,
      'subscription ($id: ID!) { jobEvents(jobId: $id, afterSeq: 0) { seq type data runId } }',
      { id: jobId },
    );
    detail = await waitFor(
      async () => {
        const result = await gql(server.graphqlUrl, JOB_DETAIL, { id: jobId });
        const job = result.data?.job;
        return job && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
      },
      { timeoutMs: 240_000, intervalMs: 500, message: 'the job to end' },
    );
    await waitFor(() => stream.items.length >= detail.lastSeq, { timeoutMs: 10_000, message: 'all events on the subscription' });
    statuses.push(...updates.items.map((item) => item.jobUpdated.status));
    events = stream.items.map((item) => item.jobEvents);
    updates.dispose();
    stream.dispose();
    await client.dispose();
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('ends SUCCEEDED with both runs SUCCEEDED', () => {
    expect(detail.error).toBeNull();
    expect(detail.status).toBe('SUCCEEDED');
    expect(detail.runs.map((run: any) => run.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(detail.progressPercent).toBe(100);
  });

  it('trains the second dataset from the first adapter', async () => {
    const runs = await server.app.services.prisma.datasetRun.findMany({ where: { jobId: databaseId(jobId, 'Job') }, orderBy: { index: 'asc' } });
    expect(runs[0]!.initAdapter).toBeNull();
    expect(runs[1]!.initAdapter).toBe(runs[0]!.adapterPath);
  });

  it('registers a model version with lineage', () => {
    expect(detail.model).not.toBeNull();
    expect(detail.model.name).toBe('tiny-travel');
    expect(detail.model.version).toBe(1);
    expect(detail.model.mergedPath).toMatch(/merge/);
    const lineageRuns = detail.model.lineage.runs;
    expect(lineageRuns).toHaveLength(2);
    for (const run of lineageRuns) expect(run.datasetSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(detail.model.metrics.finalEvalLoss).toEqual(expect.any(Number));
  });

  it('stores a processing report per run', () => {
    for (const run of detail.runs) {
      expect(run.report.rows_read).toBeGreaterThan(0);
      expect(run.report.rows_kept).toBeGreaterThan(0);
      expect(run.report.rows_kept).toBeLessThanOrEqual(run.report.rows_read);
    }
  });

  it('streams status changes live', () => {
    expect(statuses).toContain('RUNNING');
    expect(statuses.at(-1)).toBe('SUCCEEDED');
    const runStatuses = events.filter((event) => event.type === 'status').map((event) => event.data.status);
    expect(runStatuses).toEqual(expect.arrayContaining(['DOWNLOADING', 'PROCESSING', 'TRAINING', 'EVALUATING', 'MERGING']));
  });

  it('streams every event once, in order', () => {
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: detail.lastSeq }, (_, index) => index + 1));
  });

  it('shows the train loss falling in each run', () => {
    for (const run of detail.runs) {
      const losses = events
        .filter((event) => event.type === 'metric' && event.runId === run.id && event.data.split === 'train')
        .map((event) => event.data.loss as number);
      expect(losses.length).toBeGreaterThanOrEqual(10);
      const head = losses.slice(0, 3).reduce((a, b) => a + b, 0) / 3;
      const tail = losses.slice(-3).reduce((a, b) => a + b, 0) / 3;
      expect(tail).toBeLessThan(head);
    }
  });

  it('returns the same job for the same idempotency key', async () => {
    const again = await gql(server.graphqlUrl, LAUNCH, { input: tinyJobInput({ idempotencyKey: 'e2e-1' }) });
    expect(again.data.launchJob.data.job.id).toBe(jobId);
    expect(again.data.launchJob.data.created).toBe(false);
  });

  it('serves the log as plain text', async () => {
    const response = await fetch(`${server.url}/api/jobs/${jobId}/logs?run=2&level=info`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/INFO +\[dataset 2\]/);
    expect(text).not.toMatch(/\[dataset 1\]/);
  });
});
