import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { testDatabaseUrl } from './helpers/app.js';
import { LAUNCH, tinyJobInput } from './helpers/jobs.js';

// In-process tier: requests go through yoga.fetch without a port, and the
// orchestrator is not started, so launched jobs stay QUEUED.
let app: App;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-validation-'));
  const databaseUrl = await testDatabaseUrl();
  const config = loadConfig({ TUNEDECK_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) });
  app = await createApp({ config, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await app?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function post(query: string, variables: Record<string, unknown>) {
  const response = await app.yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: any[] };
}

function withTraining(training: Record<string, unknown>) {
  const base = tinyJobInput();
  return { ...base, training: { ...base.training, ...training } };
}

function withDataset(index: number, change: Record<string, unknown>) {
  const base = tinyJobInput();
  const datasets = base.datasets.map((dataset, position) => (position === index ? { ...dataset, ...change } : dataset));
  return { ...base, datasets };
}

const invalidCases: [string, Record<string, unknown>, string, RegExp][] = [
  ['steps below 10', withTraining({ maxStepsPerDataset: 9 }), 'training.maxStepsPerDataset', /from 10 to 10000/],
  ['steps above 10000', withTraining({ maxStepsPerDataset: 10_001 }), 'training.maxStepsPerDataset', /from 10 to 10000/],
  ['learning rate too small', withTraining({ learningRate: 1e-6 }), 'training.learningRate', /from 0.00001 to 0.01/],
  ['learning rate too large', withTraining({ learningRate: 0.02 }), 'training.learningRate', /from 0.00001 to 0.01/],
  ['batch size 3', withTraining({ batchSize: 3 }), 'training.batchSize', /one of 1, 2, 4, 8/],
  ['LoRA rank 12', withTraining({ loraRank: 12 }), 'training.loraRank', /one of 8, 16, 32, 64/],
  ['LoRA alpha 4', withTraining({ loraAlpha: 4 }), 'training.loraAlpha', /from 8 to 128/],
  ['LoRA alpha 256', withTraining({ loraAlpha: 256 }), 'training.loraAlpha', /from 8 to 128/],
  ['warmup equal to steps', withTraining({ maxStepsPerDataset: 20, warmupSteps: 20 }), 'training.warmupSteps', /from 0 to 19/],
  ['sequence length 256', { ...tinyJobInput(), maxSeqLength: 256 }, 'maxSeqLength', /from 512 to 4096/],
  ['sequence length 8192', { ...tinyJobInput(), maxSeqLength: 8192 }, 'maxSeqLength', /from 512 to 4096/],
  ['timeout 1 hour', { ...tinyJobInput(), gpu: { type: 'H100', timeoutHours: 1 } }, 'gpu.timeoutHours', /from 2 to 24/],
  ['timeout 25 hours', { ...tinyJobInput(), gpu: { type: 'H100', timeoutHours: 25 } }, 'gpu.timeoutHours', /from 2 to 24/],
  ['train split 0', withDataset(0, { trainSplit: 0 }), 'datasets[0].trainSplit', /strictly between 0 and 1/],
  ['train split 1', withDataset(1, { trainSplit: 1 }), 'datasets[1].trainSplit', /strictly between 0 and 1/],
  ['duplicate priority', withDataset(1, { priority: 1 }), 'datasets[1].priority', /already used by datasets\[0\]/],
  ['no datasets', { ...tinyJobInput(), datasets: [] }, 'datasets', /at least one dataset/],
  ['unknown GPU type', { ...tinyJobInput(), gpu: { type: 'RTX9090' } }, 'gpu.type', /one of T4, .*H100/],
  ['relative local path', withDataset(0, { path: 'samples/a.csv' }), 'datasets[0].path', /absolute path/],
  ['hub dataset without file', withDataset(0, { source: 'HUGGINGFACE', path: null, repo: 'soniawmeyer/travel-conversations-finetuning' }), 'datasets[0].file', /must name a CSV file/],
  ['parallel datasets', { ...tinyJobInput(), queue: { sequential: false } }, 'queue.sequential', /one after another/],
  ['model name without owner', { ...tinyJobInput(), modelName: 'llama-3' }, 'modelName', /Hugging Face model id .* got "llama-3"/],
  ['missing local file', withDataset(1, { path: '/nowhere/travel.csv' }), 'datasets[1].path', /\/nowhere\/travel.csv does not exist/],
  ['local path that is a folder', withDataset(0, { path: '/tmp' }), 'datasets[0].path', /is not a file/],
];

describe('launchJob validation', () => {
  it.each(invalidCases)('rejects %s', async (_name, input, pathName, message) => {
    const result = await post(LAUNCH, { input });
    expect(result.errors).toBeUndefined();
    expect(result.data.launchJob.__typename).toBe('ValidationError');
    const errors = result.data.launchJob.fieldErrors as { path: string; message: string; value: string; allowed: string }[];
    expect(errors.map((error) => error.path)).toEqual([pathName]);
    expect(errors[0]!.message).toMatch(message);
    expect(errors[0]!.allowed.length).toBeGreaterThan(0);
  });

  it('reports every invalid field at once', async () => {
    const result = await post(LAUNCH, { input: withTraining({ batchSize: 3, loraRank: 12, learningRate: 1 }) });
    const paths = result.data.launchJob.fieldErrors.map((error: { path: string }) => error.path);
    expect(paths).toEqual(['training.learningRate', 'training.batchSize', 'training.loraRank']);
  });

  it('echoes the rejected value', async () => {
    const result = await post(LAUNCH, { input: withTraining({ batchSize: 3 }) });
    expect(result.data.launchJob.fieldErrors[0].value).toBe('3');
  });

  it('stores nothing for invalid input', async () => {
    const before = await app.services.prisma.job.count();
    await post(LAUNCH, { input: withTraining({ batchSize: 3 }) });
    expect(await app.services.prisma.job.count()).toBe(before);
  });
});

describe('launchJob', () => {
  it('returns the job with its datasets queue and estimate', async () => {
    const result = await post(LAUNCH, { input: tinyJobInput() });
    const payload = result.data.launchJob.data;
    expect(payload.created).toBe(true);
    expect(payload.job.status).toBe('QUEUED');
    expect(payload.job.runs.map((run: { status: string }) => run.status)).toEqual(['QUEUED', 'QUEUED']);
    expect(payload.estimate.datasets).toHaveLength(2);
    expect(payload.estimate.costUsd).toBe(0);
    expect(payload.estimate.assumptions).toMatch(/local executor/);
  });

  it('orders datasets by priority', async () => {
    const base = tinyJobInput();
    const reversed = { ...base, datasets: [{ ...base.datasets[0], priority: 5 }, { ...base.datasets[1], priority: 2 }] };
    const result = await post('mutation ($input: LaunchJobInput!) { launchJob(input: $input) { ... on LaunchJobSuccess { data { job { runs { priority description } } } } } }', { input: reversed });
    expect(result.data.launchJob.data.job.runs.map((run: { priority: number }) => run.priority)).toEqual([2, 5]);
  });

  it('rejects a reused key with other input', async () => {
    const first = await post(LAUNCH, { input: { ...tinyJobInput(), idempotencyKey: 'same-key' } });
    const second = await post(LAUNCH, { input: { ...withTraining({ loraRank: 16 }), idempotencyKey: 'same-key' } });
    expect(second.data.launchJob.__typename).toBe('IdempotencyConflictError');
    expect(second.data.launchJob.existingJobId).toBe(first.data.launchJob.data.job.id);
    expect(second.data.launchJob.message).toMatch(/same-key/);
  });

  it('explains missing Modal credentials', async () => {
    const saved = { id: process.env.MODAL_TOKEN_ID, secret: process.env.MODAL_TOKEN_SECRET, home: process.env.HOME };
    delete process.env.MODAL_TOKEN_ID;
    delete process.env.MODAL_TOKEN_SECRET;
    process.env.HOME = dataDir;
    try {
      const result = await post(LAUNCH, { input: { ...tinyJobInput(), executor: 'MODAL' } });
      expect(result.data.launchJob.__typename).toBe('ExecutorUnavailableError');
      expect(result.data.launchJob.fix).toMatch(/modal token new/);
    } finally {
      process.env.HOME = saved.home;
      if (saved.id) process.env.MODAL_TOKEN_ID = saved.id;
      if (saved.secret) process.env.MODAL_TOKEN_SECRET = saved.secret;
    }
  });
});

describe('estimateJob', () => {
  const ESTIMATE = 'query ($input: LaunchJobInput!) { estimateJob(input: $input) { __typename ... on EstimateJobSuccess { data { durationSeconds costUsd pricePerGpuHourUsd datasets { costUsd } } } ... on ValidationError { fieldErrors { path } } } }';

  it('prices a Modal job from the GPU table', async () => {
    const result = await post(ESTIMATE, { input: { ...tinyJobInput(), executor: 'MODAL', gpu: { type: 'H100', count: 1, timeoutHours: 12 } } });
    const estimate = result.data.estimateJob.data;
    expect(estimate.pricePerGpuHourUsd).toBe(3.95);
    expect(estimate.costUsd).toBeCloseTo((estimate.durationSeconds / 3600) * 3.95, 1);
    const perDataset = estimate.datasets.reduce((sum: number, dataset: { costUsd: number }) => sum + dataset.costUsd, 0);
    expect(perDataset).toBeLessThan(estimate.costUsd);
  });

  it('costs more on a slower, cheaper GPU for longer', async () => {
    const h100 = await post(ESTIMATE, { input: { ...tinyJobInput(), executor: 'MODAL', gpu: { type: 'H100' } } });
    const l40s = await post(ESTIMATE, { input: { ...tinyJobInput(), executor: 'MODAL', gpu: { type: 'L40S' } } });
    expect(l40s.data.estimateJob.data.durationSeconds).toBeGreaterThan(h100.data.estimateJob.data.durationSeconds);
  });

  it('returns field errors without launching', async () => {
    const before = await app.services.prisma.job.count();
    const result = await post(ESTIMATE, { input: withTraining({ batchSize: 3 }) });
    expect(result.data.estimateJob.__typename).toBe('ValidationError');
    expect(await app.services.prisma.job.count()).toBe(before);
  });
});

describe('typename-only selections', () => {
  it('resolve for job, cancelJob and model', async () => {
    const launched = await post(LAUNCH, { input: tinyJobInput() });
    const id = launched.data.launchJob.data.job.id;
    const job = await post('query ($id: ID!) { job(id: $id) { __typename } }', { id });
    expect(job).toEqual({ data: { job: { __typename: 'Job' } } });
    const cancelled = await post('mutation ($id: ID!) { cancelJob(id: $id) { __typename ... on CancelJobSuccess { data { __typename } } } }', { id });
    expect(cancelled).toEqual({ data: { cancelJob: { __typename: 'CancelJobSuccess', data: { __typename: 'Job' } } } });
  });
});

describe('jobs connection', () => {
  it('pages newest first and filters by status', async () => {
    const all = await post('{ jobs(first: 2) { totalCount edges { cursor node { createdAt } } pageInfo { hasNextPage endCursor } } }', {});
    expect(all.data.jobs.edges).toHaveLength(2);
    expect(all.data.jobs.pageInfo.hasNextPage).toBe(true);
    const [a, b] = all.data.jobs.edges.map((edge: { node: { createdAt: string } }) => Date.parse(edge.node.createdAt));
    expect(a).toBeGreaterThanOrEqual(b);
    const next = await post('query ($after: String) { jobs(first: 100, after: $after) { edges { node { id } } } }', { after: all.data.jobs.pageInfo.endCursor });
    expect(next.data.jobs.edges.length).toBe(all.data.jobs.totalCount - 2);
    const none = await post('{ jobs(first: 5, filter: { status: [SUCCEEDED] }) { totalCount edges { node { id } } } }', {});
    expect(none.data.jobs).toEqual({ totalCount: 0, edges: [] });
  });
});
