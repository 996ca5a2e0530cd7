import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestEvents } from '../server/jobs/ingest.js';
import { databaseId } from '../schema/ids.js';
import { gql, startTestApp, waitFor, type TestApp } from './helpers/app.js';
import { LAUNCH, tinyJobInput } from './helpers/jobs.js';
import { collect, wsClient } from './helpers/ws.js';

const EVENTS = 'subscription ($id: ID!, $after: Int) { jobEvents(jobId: $id, afterSeq: $after) { seq type data } }';

/** Builds contract-valid metric events as the pipeline would send them. */
function metricEvents(jobId: string, runId: string, stream: string, steps: number[]) {
  return steps.map((step) => ({
    v: 1,
    job_id: jobId,
    run_id: runId,
    stage: 'dataset_run',
    attempt: 1,
    stream,
    seq: step,
    ts: new Date().toISOString(),
    type: 'metric',
    data: { step, split: 'train', loss: 3 - step * 0.1, learning_rate: 0.0002, non_finite: [] },
  }));
}

// The API layer alone: the orchestrator is off and events are ingested the way
// the orchestrator does it, so the test controls exactly when each one lands.
describe('jobEvents subscription', () => {
  let server: TestApp;
  let jobId: string;
  let runId: string;
  const stream = randomUUID().replace(/-/g, '');

  beforeAll(async () => {
    server = await startTestApp({ orchestrate: false });
    const launched = await gql(server.graphqlUrl, LAUNCH, { input: tinyJobInput() });
    jobId = launched.data.launchJob.data.job.id;
    runId = databaseId(launched.data.launchJob.data.job.runs[0].id, 'DatasetRun');
  });

  afterAll(async () => {
    await server?.stop();
  });

  const ingest = (steps: number[]) => ingestEvents(server.app.services, databaseId(jobId, 'Job'), metricEvents(databaseId(jobId, 'Job'), runId, stream, steps));

  it('resumes after a disconnect without gaps or duplicates', async () => {
    await ingest([1, 2]);
    const client = wsClient(server.wsUrl);
    const firstSession = collect<{ jobEvents: { seq: number } }>(client, EVENTS, { id: jobId, after: 0 });
    await waitFor(() => firstSession.items.length === 2, { message: 'replay of steps 1-2' });
    await ingest([3, 4]);
    await waitFor(() => firstSession.items.length === 4, { message: 'live steps 3-4' });
    firstSession.dispose();
    await client.dispose();
    const lastSeen = firstSession.items.at(-1)!.jobEvents.seq;
    expect(lastSeen).toBe(4);

    // Published while nobody listens.
    await ingest([5, 6, 7]);

    const again = wsClient(server.wsUrl);
    const secondSession = collect<{ jobEvents: { seq: number; data: { step: number } } }>(again, EVENTS, { id: jobId, after: lastSeen });
    await waitFor(() => secondSession.items.length === 3, { message: 'replay of steps 5-7' });
    await ingest([8]);
    await waitFor(() => secondSession.items.length === 4, { message: 'live step 8' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(secondSession.items.map((item) => item.jobEvents.seq)).toEqual([5, 6, 7, 8]);
    expect(secondSession.items.map((item) => item.jobEvents.data.step)).toEqual([5, 6, 7, 8]);
    secondSession.dispose();
    await again.dispose();
  });

  it('shares one feed among many subscribers', async () => {
    const clients = Array.from({ length: 3 }, () => wsClient(server.wsUrl));
    const sessions = clients.flatMap((client) => Array.from({ length: 10 }, () => collect<{ jobEvents: { seq: number } }>(client, EVENTS, { id: jobId, after: 8 })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.app.services.eventFeeds.size).toBe(1);
    await ingest([9, 10, 11]);
    await waitFor(() => sessions.every((session) => session.items.length === 3), { message: 'steps 9-11 on every subscription' });
    for (const session of sessions) expect(session.items.map((item) => item.jobEvents.seq)).toEqual([9, 10, 11]);
    for (const session of sessions) session.dispose();
    await Promise.all(clients.map((client) => client.dispose()));
    await waitFor(() => server.app.services.eventFeeds.size === 0, { message: 'the feed to close' });
    expect(server.app.services.pubsub.listenerCount('job:events')).toBe(0);
  });

  it('drops a redelivered event', async () => {
    const before = await server.app.services.prisma.event.count({ where: { jobId: databaseId(jobId, 'Job') } });
    const result = await ingest([8]);
    expect(result.stored).toBe(0);
    expect(result.duplicates).toBe(1);
    expect(await server.app.services.prisma.event.count({ where: { jobId: databaseId(jobId, 'Job') } })).toBe(before);
  });

  it('streams over server-sent events too', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('subscription ($id: ID!) { jobEvents(jobId: $id, afterSeq: 6) { seq } }')}&variables=${encodeURIComponent(JSON.stringify({ id: jobId }))}`, {
      // A GET has no JSON content type, so CSRF prevention requires this header.
      headers: { accept: 'text/event-stream', 'x-graphql-csrf': '1' },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('"seq":8')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('"seq":7');
    expect(text).toContain('"seq":8');
    expect(text).not.toContain('"seq":6');
  });
});

describe('event ingestion', () => {
  let server: TestApp;
  let jobId: string;
  let runId: string;

  beforeAll(async () => {
    server = await startTestApp({ orchestrate: false });
    const launched = await gql(server.graphqlUrl, LAUNCH, { input: tinyJobInput() });
    jobId = databaseId(launched.data.launchJob.data.job.id, 'Job');
    runId = databaseId(launched.data.launchJob.data.job.runs[0].id, 'DatasetRun');
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('stores a non-finite loss as null with a flag', async () => {
    const [event] = metricEvents(jobId, runId, 'nan-stream', [1]);
    event!.data = { step: 1, split: 'train', loss: null, learning_rate: 0.0002, grad_norm: null, non_finite: ['loss', 'grad_norm'] } as never;
    await ingestEvents(server.app.services, jobId, [event]);
    const result = await gql(server.graphqlUrl, 'query ($id: ID!) { job(id: $id) { metrics(first: 10) { edges { node { step loss gradNorm nonFinite } } } latestMetrics { trainLoss } } }', { id: jobId });
    expect(result.errors).toBeUndefined();
    expect(result.data.job.metrics.edges[0].node).toEqual({ step: 1, loss: null, gradNorm: null, nonFinite: ['loss', 'grad_norm'] });
    expect(result.data.job.latestMetrics.trainLoss).toBeNull();
  });

  it('rejects invalid events and keeps the valid ones', async () => {
    const valid = metricEvents(jobId, runId, 'mixed-stream', [1, 2]);
    const invalid = [{ hello: 'world' }, { ...valid[0], seq: 3, type: 'metric', data: { split: 'train' } }, { ...valid[0], seq: 4, job_id: 'another-job' }];
    const result = await ingestEvents(server.app.services, jobId, [...valid, ...invalid]);
    expect(result.stored).toBe(2);
    expect(result.rejected).toBe(3);
    expect(server.logs.filter((line) => line.msg === 'pipeline event rejected')).toHaveLength(3);
  });

  it('numbers events without gaps across streams', async () => {
    await ingestEvents(server.app.services, jobId, metricEvents(jobId, runId, 'stream-a', [1, 2, 3]));
    await ingestEvents(server.app.services, jobId, metricEvents(jobId, runId, 'stream-b', [1, 2]));
    const seqs = (await server.app.services.prisma.event.findMany({ where: { jobId }, orderBy: { seq: 'asc' }, select: { seq: true } })).map((row) => row.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => index + 1));
  });

  it('keeps one metric point per repeated step', async () => {
    await ingestEvents(server.app.services, jobId, metricEvents(jobId, runId, 'resume-1', [5, 6]));
    await ingestEvents(server.app.services, jobId, metricEvents(jobId, runId, 'resume-2', [6, 7]));
    const points = await server.app.services.prisma.metricPoint.findMany({ where: { runId, split: 'train', step: { gte: 5 } }, orderBy: { step: 'asc' } });
    expect(points.map((point) => point.step)).toEqual([5, 6, 7]);
  });
});
