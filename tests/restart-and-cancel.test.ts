import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPipelineProcess } from '../server/executors/local.js';
import { databaseId } from '../schema/ids.js';
import { gql, startTestApp, waitFor, type TestApp } from './helpers/app.js';
import { JOB_DETAIL, LAUNCH, tinyJobInput } from './helpers/jobs.js';

const CANCEL = /* GraphQL */ `
  mutation Cancel($id: ID!) {
    cancelJob(id: $id) {
      __typename
      ... on CancelJobSuccess { data { id status } }
      ... on InvalidStateError { message currentStatus }
    }
  }
`;

async function jobDetail(server: TestApp, id: string) {
  const result = await gql(server.graphqlUrl, JOB_DETAIL, { id });
  return result.data?.job;
}

describe('server restart mid-job', () => {
  const servers: TestApp[] = [];
  let dataDir: string;

  afterAll(async () => {
    for (const server of servers) await server.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('completes the job with no gaps or duplicates', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-restart-'));
    const first = await startTestApp({ dataDir });
    servers.push(first);
    const input = tinyJobInput({ training: { ...tinyJobInput().training, maxStepsPerDataset: 24 } });
    const launched = await gql(first.graphqlUrl, LAUNCH, { input });
    const jobId = launched.data.launchJob.data.job.id;

    // Stop the server while the first run trains; its pipeline process keeps running.
    const before = await waitFor(async () => {
      const job = await jobDetail(first, jobId);
      return job?.runs[0].step >= 3 ? job : null;
    }, { timeoutMs: 120_000, message: 'step 3 of the first run' });
    expect(before.status).toBe('RUNNING');
    await first.stop();
    servers.pop();

    const second = await startTestApp({ dataDir });
    servers.push(second);
    const done = await waitFor(async () => {
      const job = await jobDetail(second, jobId);
      return job && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
    }, { timeoutMs: 240_000, intervalMs: 500, message: 'the job to end after the restart' });

    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.runs.map((run: any) => run.attempt)).toEqual([1, 1]);

    const prisma = second.app.services.prisma;
    const id = databaseId(jobId, 'Job');
    const events = await prisma.event.findMany({ where: { jobId: id }, orderBy: { seq: 'asc' }, select: { seq: true, stream: true, streamSeq: true } });
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: events.length }, (_, index) => index + 1));
    // Each pipeline stream arrived whole: 1..n without gaps or repeats.
    const byStream = new Map<string, number[]>();
    for (const event of events) byStream.set(event.stream, [...(byStream.get(event.stream) ?? []), event.streamSeq]);
    expect(byStream.size).toBe(3);
    for (const seqs of byStream.values()) {
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => index + 1));
    }
    const steps = await prisma.metricPoint.findMany({ where: { jobId: id, split: 'train' }, orderBy: { step: 'asc' }, select: { runId: true, step: true } });
    const firstRunSteps = steps.filter((point) => point.runId === databaseId(done.runs[0].id, 'DatasetRun')).map((point) => point.step);
    expect(firstRunSteps).toEqual(Array.from({ length: 24 }, (_, index) => index + 1));
  }, 400_000);
});

describe('cancelling mid-training', () => {
  let server: TestApp;

  afterAll(async () => {
    await server?.stop();
  });

  it('ends CANCELLED with the process gone', async () => {
    server = await startTestApp();
    const input = tinyJobInput({ training: { ...tinyJobInput().training, maxStepsPerDataset: 400 } });
    const launched = await gql(server.graphqlUrl, LAUNCH, { input });
    const jobId = launched.data.launchJob.data.job.id;
    await waitFor(async () => {
      const job = await jobDetail(server, jobId);
      return job?.runs[0].status === 'TRAINING' && job.runs[0].step >= 2;
    }, { timeoutMs: 120_000, message: 'training to start' });
    const run = await server.app.services.prisma.datasetRun.findFirstOrThrow({ where: { jobId: databaseId(jobId, 'Job'), index: 0 } });
    const pid = Number(run.executorRef!.split(':')[1]);
    expect(await isPipelineProcess(pid)).toBe(true);

    const first = await gql(server.graphqlUrl, CANCEL, { id: jobId });
    const second = await gql(server.graphqlUrl, CANCEL, { id: jobId });
    expect(first.data.cancelJob.__typename).toBe('CancelJobSuccess');
    expect(second.data.cancelJob.__typename).toBe('CancelJobSuccess');
    expect(['CANCELLING', 'CANCELLED']).toContain(second.data.cancelJob.data.status);

    const ended = await waitFor(async () => {
      const job = await jobDetail(server, jobId);
      return job?.status === 'CANCELLED' ? job : null;
    }, { timeoutMs: 60_000, message: 'CANCELLED' });
    expect(ended.runs.map((candidate: any) => candidate.status)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(await isPipelineProcess(pid)).toBe(false);

    const third = await gql(server.graphqlUrl, CANCEL, { id: jobId });
    expect(third.data.cancelJob.data.status).toBe('CANCELLED');
  }, 200_000);
});
