import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageRequest } from '../server/executors/contract.js';
import { ModalExecutor } from '../server/executors/modal.js';
import { ExecutorUnavailableError } from '../server/executors/types.js';
import { databaseId } from '../schema/ids.js';
import { gql, startTestApp, waitFor, type TestApp } from './helpers/app.js';
import { FakeModal } from './helpers/fake-modal.js';
import { JOB_DETAIL, LAUNCH, tinyJobInput } from './helpers/jobs.js';

const logger = pino({ level: 'silent' });

function executor(fake: FakeModal, hasCredentials = true) {
  return new ModalExecutor({ appName: 'tunedeck', eventsQueue: 'tunedeck-events', logger, connect: () => fake, hasCredentials: () => hasCredentials });
}

function event(request: StageRequest, seq: number, type: string, data: Record<string, unknown>) {
  return { v: 1, job_id: request.job_id, run_id: request.run_id, stage: request.stage, attempt: request.attempt, stream: `s-${request.run_id ?? 'merge'}-${request.attempt}`, seq, ts: new Date().toISOString(), type, data };
}

describe('ModalExecutor preflight', () => {
  it('names the command for missing credentials', async () => {
    const error = await executor(new FakeModal('tunedeck', ['run_dataset', 'merge']), false).preflight().catch((caught) => caught);
    expect(error).toBeInstanceOf(ExecutorUnavailableError);
    expect(error.fix).toMatch(/modal token new/);
  });

  it('names the command for an app that is not deployed', async () => {
    const error = await executor(new FakeModal('tunedeck', ['run_dataset'])).preflight().catch((caught) => caught);
    expect(error).toBeInstanceOf(ExecutorUnavailableError);
    expect(error.message).toMatch(/no deployed function "merge"/);
    expect(error.fix).toMatch(/modal deploy app.py/);
  });

  it('passes when both functions are deployed', async () => {
    await expect(executor(new FakeModal('tunedeck', ['run_dataset', 'merge'])).preflight()).resolves.toBeUndefined();
  });
});

describe('ModalExecutor stages', () => {
  const request = { v: 1, stage: 'dataset_run', job_id: 'job1', run_id: 'run1', attempt: 1 } as StageRequest;

  it('spawns the stage function with the request', async () => {
    const fake = new FakeModal('tunedeck', ['run_dataset', 'merge']);
    const ref = await executor(fake).start(request, { gpuType: 'L40S', gpuCount: 2, timeoutHours: 6 });
    expect(fake.calls.get(ref)).toMatchObject({ functionName: 'run_dataset', args: [request], options: { gpu: 'L40S:2', timeoutMs: 6 * 3_600_000 } });
  });

  it('reports running while get times out', async () => {
    const fake = new FakeModal('tunedeck', ['run_dataset', 'merge']);
    const modal = executor(fake);
    const ref = await modal.start(request, { gpuType: 'H100', gpuCount: 1, timeoutHours: 2 });
    fake.put('job1', [event(request, 1, 'heartbeat', { step: 0 })]);
    const poll = await modal.poll(ref, request);
    expect(poll.state).toBe('running');
    expect(poll.events).toHaveLength(1);
    expect((await modal.poll(ref, request)).events).toEqual([]);
  });

  it('reports a RemoteError as a failed result', async () => {
    const fake = new FakeModal('tunedeck', ['run_dataset', 'merge']);
    const modal = executor(fake);
    const ref = await modal.start(request, { gpuType: 'H100', gpuCount: 1, timeoutHours: 2 });
    fake.calls.get(ref)!.remoteError = 'ValueError: no adapter matches the columns a, b';
    const poll = await modal.poll(ref, request);
    expect(poll.state).toBe('finished');
    expect(poll.result).toEqual({ status: 'FAILED', error: 'The pipeline raised on Modal: ValueError: no adapter matches the columns a, b' });
  });

  it('reports a function call Modal no longer knows as lost', async () => {
    const poll = await executor(new FakeModal('tunedeck', ['run_dataset'])).poll('fc-unknown', request);
    expect(poll.state).toBe('lost');
    expect(poll.reason).toMatch(/7 days/);
  });

  it('cancels with container termination', async () => {
    const fake = new FakeModal('tunedeck', ['run_dataset', 'merge']);
    const modal = executor(fake);
    const ref = await modal.start(request, { gpuType: 'H100', gpuCount: 1, timeoutHours: 2 });
    expect(await modal.cancel(ref)).toBe(true);
    expect(fake.calls.get(ref)!.cancelled).toBe(true);
  });
});

// A whole job through the orchestrator with the Modal executor, where the fake
// plays the remote side: it answers each spawned stage with events and a result.
describe('job on the Modal executor', () => {
  let server: TestApp;
  const fake = new FakeModal('tunedeck', ['run_dataset', 'merge']);

  beforeAll(async () => {
    server = await startTestApp({ executors: { MODAL: executor(fake) } });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('runs datasets in order and registers the model', async () => {
    const launched = await gql(server.graphqlUrl, LAUNCH, { input: { ...tinyJobInput(), executor: 'MODAL', modelName: 'openai/gpt-oss-20b' } });
    const jobId = launched.data.launchJob.data.job.id;
    const answered = new Set<string>();
    const detail = await waitFor(async () => {
      for (const call of fake.calls.values()) {
        if (answered.has(call.id)) continue;
        answered.add(call.id);
        const stage = call.args[0] as StageRequest;
        if (stage.stage === 'dataset_run') {
          expect(stage.output_dir).toMatch(/^\/checkpoints\/jobs\//);
          expect(stage.model.load_in_4bit).toBe(true);
          fake.put(stage.job_id, [
            event(stage, 1, 'status', { status: 'TRAINING' }),
            event(stage, 2, 'metric', { step: 1, split: 'train', loss: 2.5, non_finite: [] }),
            event(stage, 3, 'data_report', { rows_read: 10, rows_kept: 9, dropped: { duplicate: 1 }, dataset_sha256: 'a'.repeat(64) }),
          ]);
          call.result = { status: 'SUCCEEDED', adapter_path: `${stage.output_dir}/adapter`, metrics: { final_train_loss: 2.4, eval_loss: 2.6, perplexity: 13.5 }, dataset_sha256: 'a'.repeat(64) };
        } else {
          call.result = { status: 'SUCCEEDED', merged_path: `${stage.output_dir}/merged` };
        }
      }
      const job = (await gql(server.graphqlUrl, JOB_DETAIL, { id: jobId })).data?.job;
      return job && ['SUCCEEDED', 'FAILED'].includes(job.status) ? job : null;
    }, { timeoutMs: 30_000, message: 'the Modal job to end' });

    expect(detail.status).toBe('SUCCEEDED');
    const runCalls = [...fake.calls.values()].filter((call) => call.functionName === 'run_dataset').map((call) => call.args[0] as StageRequest);
    expect(runCalls.map((stage) => stage.dataset!.index)).toEqual([0, 1]);
    expect(runCalls[0]!.init_adapter).toBeNull();
    expect(runCalls[1]!.init_adapter).toBe(`${runCalls[0]!.output_dir}/adapter`);
    expect(fake.lastCall('merge')!.args[0]).toMatchObject({ stage: 'merge', adapter: `${runCalls[1]!.output_dir}/adapter` });
    expect(detail.model.metrics).toEqual({ finalTrainLoss: 2.4, finalEvalLoss: 2.6, perplexity: 13.5 });
    const stored = await server.app.services.prisma.datasetRun.findMany({ where: { jobId: databaseId(jobId, 'Job') }, orderBy: { index: 'asc' } });
    expect(stored.map((run) => run.executorRef)).toEqual([expect.stringMatching(/^fc-/), expect.stringMatching(/^fc-/)]);
    expect(stored[0]!.report).toMatchObject({ rows_kept: 9 });
  });

  it('fails the job when a run raises and continueOnFailure is off', async () => {
    const launched = await gql(server.graphqlUrl, LAUNCH, { input: { ...tinyJobInput(), executor: 'MODAL' } });
    const jobId = launched.data.launchJob.data.job.id;
    const detail = await waitFor(async () => {
      const call = fake.lastCall('run_dataset');
      if (call && (call.args[0] as StageRequest).job_id === databaseId(jobId, 'Job') && !call.remoteError) call.remoteError = 'RuntimeError: CUDA out of memory';
      const job = (await gql(server.graphqlUrl, JOB_DETAIL, { id: jobId })).data?.job;
      return job && ['SUCCEEDED', 'FAILED'].includes(job.status) ? job : null;
    }, { timeoutMs: 30_000, message: 'the failing job to end' });
    expect(detail.status).toBe('FAILED');
    expect(detail.runs.map((run: { status: string }) => run.status)).toEqual(['FAILED', 'SKIPPED']);
    expect(detail.error).toMatch(/CUDA out of memory/);
  });
});
