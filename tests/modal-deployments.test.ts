import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseId } from '../schema/ids.js';
import { createApp, type App } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { ModalRuntime } from '../server/deployments/modal.js';
import type { StageRequest } from '../server/executors/contract.js';
import { ModalExecutor } from '../server/executors/modal.js';
import { gql, pipelineEnv, testDatabaseUrl, waitFor } from './helpers/app.js';
import { FakeModal } from './helpers/fake-modal.js';
import { LAUNCH, tinyJobInput } from './helpers/jobs.js';

const silent = pino({ level: 'silent' });

const MODEL = /* GraphQL */ `
  query Model($id: ID!) {
    model(id: $id) { id status gateReason mergedPath deploymentStatus deployments { id status endpointUrl error } }
  }
`;
const DEPLOY = /* GraphQL */ `
  mutation Deploy($id: ID!) {
    deployModel(modelId: $id, endpointConfig: { gpuType: "A100-80GB", maxConcurrentRequests: 4, idleTimeoutSeconds: 120 }) {
      __typename
      ... on DeployModelSuccess { data { id status } }
      ... on InvalidStateError { message currentStatus }
    }
  }
`;
const UNDEPLOY = 'mutation ($id: ID!) { undeployModel(modelId: $id) { __typename } }';
const TEST = /* GraphQL */ `
  mutation Test($id: ID!) {
    testModel(modelId: $id, prompt: "Where should I stay in Lisbon?", reasoningEffort: MEDIUM, compareWithBase: true) {
      __typename
      ... on TestModelSuccess { data { prompt model { answer reasoning promptTokens completionTokens } base { answer reasoning latencyMs promptTokens completionTokens } } }
      ... on InvalidStateError { message }
    }
  }
`;

const GATE_PASSED = { deployable: true, reason: null, checks: [{ name: 'files', ok: true, detail: '1 weight file(s)' }], smoke: null };

/** Starts a stand-in for vLLM behind a Modal tunnel, serving GET /health and POST /v1/chat/completions. */
async function startFakeVllm(): Promise<{ server: Server; url: string; completions: unknown[] }> {
  const completions: unknown[] = [];
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200).end();
      return;
    }
    if (request.method === 'POST' && request.url === '/v1/chat/completions') {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        completions.push(JSON.parse(body));
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            choices: [{ message: { role: 'assistant', content: 'Stay in Alfama.', reasoning_content: 'The user asks about Lisbon.' } }],
            usage: { prompt_tokens: 21, completion_tokens: 4 },
          }),
        );
      });
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, completions };
}

/** Starts the server on 127.0.0.1 with the Modal executor and runtime on one fake. */
async function startModalApp(fake: FakeModal): Promise<{ app: App; graphqlUrl: string; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-modal-deploy-'));
  const databaseUrl = await testDatabaseUrl();
  const config = loadConfig({
    TUNEDECK_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    LOG_FORMAT: 'json',
    TUNEDECK_HOST: '127.0.0.1',
    PORT: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const app = await createApp({
    config,
    logger: silent,
    pollIntervalMs: 50,
    pipelineEnv: pipelineEnv(),
    executors: { MODAL: new ModalExecutor({ appName: 'tunedeck', eventsQueue: 'tunedeck-events', logger: silent, connect: () => fake, hasCredentials: () => true }) },
    runtimes: { MODAL: new ModalRuntime({ appName: 'tunedeck', eventsQueue: 'tunedeck-events', logger: silent, connect: () => fake, waitStepMs: 20 }) },
  });
  const { url } = await app.start(0, '127.0.0.1');
  return {
    app,
    graphqlUrl: `${url}/graphql`,
    async stop() {
      await app.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sets stage results on the fake as modal/app.py returns them: an adapter per dataset run, then a merged path. */
function answerStages(fake: FakeModal): void {
  fake.handlers.set('run_dataset', (call) => {
    const stage = call.args[0] as StageRequest;
    call.result = { status: 'SUCCEEDED', adapter_path: `${stage.output_dir}/adapter`, metrics: { final_train_loss: 2.4, eval_loss: 2.6, perplexity: 13.5 }, dataset_sha256: 'a'.repeat(64) };
  });
  fake.handlers.set('merge', (call) => {
    const stage = call.args[0] as StageRequest;
    call.result = { status: 'SUCCEEDED', merged_path: `${stage.output_dir}/merged` };
  });
}

describe('deployments on the Modal runtime', () => {
  const fake = new FakeModal('tunedeck', ['run_dataset', 'merge', 'verify_merged', 'generate', 'serve_model']);
  let server: Awaited<ReturnType<typeof startModalApp>>;
  let vllm: Awaited<ReturnType<typeof startFakeVllm>>;
  let gate: (request: Record<string, unknown>) => { result?: unknown; remoteError?: string } = () => ({ result: GATE_PASSED });

  async function model(id: string) {
    return (await gql(server.graphqlUrl, MODEL, { id })).data?.model;
  }

  async function modelWhen(id: string, done: (candidate: any) => boolean, message: string) {
    return waitFor(async () => {
      const candidate = await model(id);
      return candidate && done(candidate) ? candidate : null;
    }, { timeoutMs: 20_000, intervalMs: 50, message });
  }

  /** Launches a job on the fake Modal executor and returns its model id once the gate has ruled. */
  async function trainedModel(name: string): Promise<string> {
    const launched = await gql(server.graphqlUrl, LAUNCH, { input: { ...tinyJobInput({ name }), executor: 'MODAL', modelName: 'openai/gpt-oss-20b' } });
    const jobId = launched.data.launchJob.data.job.id;
    const job = await waitFor(async () => {
      const found = (await gql(server.graphqlUrl, 'query ($id: ID!) { job(id: $id) { status error model { id } } }', { id: jobId })).data?.job;
      return found && ['SUCCEEDED', 'FAILED'].includes(found.status) ? found : null;
    }, { timeoutMs: 20_000, message: `job ${name} to end` });
    expect(job.error).toBeNull();
    await modelWhen(job.model.id, (candidate) => !['REGISTERED', 'VERIFYING'].includes(candidate.status), `the gate of ${name}`);
    return job.model.id;
  }

  async function deployment(modelId: string) {
    return server.app.services.prisma.deployment.findFirstOrThrow({ where: { modelId: databaseId(modelId, 'ModelVersion') }, orderBy: { createdAt: 'desc' } });
  }

  beforeAll(async () => {
    answerStages(fake);
    fake.handlers.set('verify_merged', (call) => Object.assign(call, gate(call.args[0] as Record<string, unknown>)));
    fake.handlers.set('generate', (call) => {
      call.result = { answer: 'Lisbon has many neighbourhoods.', reasoning: '', prompt_tokens: 19, completion_tokens: 6 };
    });
    vllm = await startFakeVllm();
    server = await startModalApp(fake);
  });

  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => vllm?.server.close(resolve));
  });

  it('passes the gate through verify_merged', async () => {
    const modelId = await trainedModel('gate-pass');

    const verified = await model(modelId);
    expect(verified.status).toBe('DEPLOYABLE');
    expect(verified.gateReason).toBeNull();
    const call = fake.lastCall('verify_merged')!;
    expect(call.args).toEqual([{ merged_path: verified.mergedPath, base_model: 'openai/gpt-oss-20b' }]);
    expect(verified.mergedPath).toMatch(/^\/checkpoints\/jobs\/.+\/merged$/);
  });

  it('stores the reason of a failed gate', async () => {
    gate = () => ({ result: { deployable: false, reason: 'the merged model answers exactly like the base model', checks: [], smoke: null } });
    const modelId = await trainedModel('gate-fail');

    const rejected = await model(modelId);
    expect(rejected.status).toBe('NOT_DEPLOYABLE');
    expect(rejected.gateReason).toBe('the merged model answers exactly like the base model');
  });

  it('reports a gate that raised on Modal', async () => {
    gate = () => ({ remoteError: 'torch.OutOfMemoryError: CUDA out of memory' });
    const modelId = await trainedModel('gate-raise');

    const rejected = await model(modelId);
    expect(rejected.status).toBe('NOT_DEPLOYABLE');
    expect(rejected.gateReason).toBe('Verification could not run: verify_merged raised on Modal: torch.OutOfMemoryError: CUDA out of memory');
    gate = () => ({ result: GATE_PASSED });
  });

  it('deploys, tests against base, undeploys', async () => {
    const modelId = await trainedModel('deploy-me');
    const merged = (await model(modelId)).mergedPath;

    const deployed = await gql(server.graphqlUrl, DEPLOY, { id: modelId });
    expect(deployed.data.deployModel.__typename).toBe('DeployModelSuccess');
    expect(deployed.data.deployModel.data.status).toBe('PENDING');

    // DEPLOYING: serve_model is spawned, but the tunnel URL has not arrived yet.
    const deploying = await modelWhen(modelId, (candidate) => candidate.deploymentStatus === 'DEPLOYING' && fake.lastCall('serve_model') !== undefined, 'DEPLOYING');
    expect(deploying.deployments[0].endpointUrl).toBeNull();
    const row = await deployment(modelId);
    const serve = fake.lastCall('serve_model')!;
    expect(row.externalRef).toBe(`modal:${serve.id}:${row.id}`);
    expect(serve.options).toEqual({ gpu: 'A100-80GB', timeoutMs: 24 * 3_600_000 });
    expect(serve.args).toEqual([{ deployment_id: row.id, merged_path: merged, max_concurrent_requests: 4, idle_timeout_seconds: 120 }]);

    // READY: the serving function puts its URL into the deployment's queue partition.
    fake.put(`deploy-${row.id}`, [{ deployment_id: row.id, url: vllm.url }]);
    const ready = await modelWhen(modelId, (candidate) => ['READY', 'FAILED'].includes(candidate.deploymentStatus), 'READY');
    expect(ready.deployments[0].error).toBeNull();
    expect(ready.deploymentStatus).toBe('READY');
    expect(ready.deployments[0].endpointUrl).toBe(vllm.url);

    const tested = await gql(server.graphqlUrl, TEST, { id: modelId });
    expect(tested.errors).toBeUndefined();
    const result = tested.data.testModel.data;
    expect(result.model).toEqual({ answer: 'Stay in Alfama.', reasoning: 'The user asks about Lisbon.', promptTokens: 21, completionTokens: 4 });
    expect(vllm.completions).toHaveLength(1);
    expect(vllm.completions[0]).toMatchObject({ messages: [{ role: 'user', content: 'Where should I stay in Lisbon?' }], reasoning_effort: 'medium' });
    expect(result.base).toMatchObject({ answer: 'Lisbon has many neighbourhoods.', reasoning: null, promptTokens: 19, completionTokens: 6 });
    expect(result.base.latencyMs).toBeGreaterThanOrEqual(0);
    expect(fake.lastCall('generate')!.args).toEqual([{ model: 'openai/gpt-oss-20b', prompt: 'Where should I stay in Lisbon?', reasoning_effort: 'medium' }]);

    const undeployed = await gql(server.graphqlUrl, UNDEPLOY, { id: modelId });
    expect(undeployed.data.undeployModel.__typename).toBe('UndeployModelSuccess');
    const stopped = await modelWhen(modelId, (candidate) => candidate.deploymentStatus === 'STOPPED', 'STOPPED');
    expect(stopped.deployments[0].status).toBe('STOPPED');
    expect(serve.cancelled).toBe(true);
  });

  it('fails when serve_model raises', async () => {
    const modelId = await trainedModel('vllm-crash');
    await gql(server.graphqlUrl, DEPLOY, { id: modelId });
    const serve = await waitFor(async () => {
      const call = fake.lastCall('serve_model');
      return call && (call.args[0] as { deployment_id: string }).deployment_id === (await deployment(modelId)).id ? call : null;
    }, { message: 'the serve_model call of this deployment' });

    serve.remoteError = 'RuntimeError: vLLM exited with code 1 before its /health check passed';
    const failed = await modelWhen(modelId, (candidate) => candidate.deploymentStatus === 'FAILED', 'FAILED');
    expect(failed.deployments[0].error).toMatch(/stopped unexpectedly/);
    expect(failed.deployments[0].error).toMatch(/vLLM exited with code 1 before its \/health check passed/);
    expect(failed.deployments[0].endpointUrl).toBeNull();
  });

  it('stops READY after an idle timeout', async () => {
    const modelId = await trainedModel('idle');
    await gql(server.graphqlUrl, DEPLOY, { id: modelId });
    const serve = await waitFor(async () => {
      const row = await deployment(modelId);
      const call = fake.lastCall('serve_model');
      return row.externalRef && call && row.externalRef.includes(call.id) ? call : null;
    }, { message: 'the serve_model call of this deployment' });
    const row = await deployment(modelId);
    fake.put(`deploy-${row.id}`, [{ deployment_id: row.id, url: vllm.url }]);
    await modelWhen(modelId, (candidate) => candidate.deploymentStatus === 'READY', 'READY');

    serve.result = { deployment_id: row.id, stopped: 'idle', message: 'stopped after 120 s without requests' };
    const ended = await modelWhen(modelId, (candidate) => candidate.deploymentStatus !== 'READY', 'the end of the idle deployment');
    expect(ended.deploymentStatus).toBe('STOPPED');
    expect(ended.deployments[0].error).toMatch(/stopped after 120 s without requests/);
  });
});

describe('ModalRuntime', () => {
  function runtime(fake: FakeModal, options: { verifyTimeoutMs?: number } = {}) {
    return new ModalRuntime({ appName: 'tunedeck', eventsQueue: 'tunedeck-events', logger: silent, connect: () => fake, waitStepMs: 10, ...options });
  }

  it('reports alive while the call runs', async () => {
    const fake = new FakeModal('tunedeck', ['serve_model']);
    const modal = runtime(fake);
    const { ref } = await modal.start('dep1', '/checkpoints/jobs/j/merged', { gpuType: 'H100', maxConcurrentRequests: 8, autoScale: true, idleTimeoutSeconds: 300 });

    expect(await modal.isAlive(ref)).toBe(true);
    expect(await modal.describeFailure(ref)).toBe('');
    fake.calls.get(ref.split(':')[1]!)!.remoteError = 'RuntimeError: vLLM exited with code 137';
    expect(await modal.isAlive(ref)).toBe(false);
    expect(await modal.describeFailure(ref)).toBe('RuntimeError: vLLM exited with code 137');
  });

  it('treats an unknown call as stopped', async () => {
    const modal = runtime(new FakeModal('tunedeck', ['serve_model']));

    expect(await modal.isAlive('modal:fc-gone:dep1')).toBe(false);
    expect(await modal.describeFailure('modal:fc-gone:dep1')).toMatch(/Function call fc-gone was not found on Modal/);
    await expect(modal.stop('modal:fc-gone:dep1')).resolves.toBeUndefined();
  });

  it('rejects a ref of another runtime', async () => {
    const modal = runtime(new FakeModal('tunedeck', ['serve_model']));

    await expect(modal.isAlive('local:123:dep1')).rejects.toThrow(/Invalid Modal deployment ref/);
  });

  it('keeps the endpoint it read from the queue', async () => {
    const fake = new FakeModal('tunedeck', ['serve_model']);
    const modal = runtime(fake);
    const { ref } = await modal.start('dep1', '/checkpoints/jobs/j/merged', { gpuType: 'H100', maxConcurrentRequests: 8, autoScale: true, idleTimeoutSeconds: 300 });

    expect(await modal.endpoint(ref)).toBeNull();
    fake.put('deploy-dep1', ['not json', { deployment_id: 'dep1' }, { deployment_id: 'dep1', url: 'https://abc.modal.host' }]);
    expect(await modal.endpoint(ref)).toBe('https://abc.modal.host');
    expect(fake.queue.get('deploy-dep1')).toEqual([]);
    expect(await modal.endpoint(ref)).toBe('https://abc.modal.host');
  });

  it('cancels a gate that runs past its timeout', async () => {
    const fake = new FakeModal('tunedeck', ['verify_merged']);
    const modal = runtime(fake, { verifyTimeoutMs: 100 });

    await expect(modal.verify('/checkpoints/jobs/j/merged', 'openai/gpt-oss-20b')).rejects.toThrow(/verify_merged on Modal timed out after 0\.1 s/);
    expect(fake.lastCall('verify_merged')!.cancelled).toBe(true);
  });

  it('rejects a gate output that is not a gate result', async () => {
    const fake = new FakeModal('tunedeck', ['verify_merged']);
    fake.handlers.set('verify_merged', (call) => {
      call.result = { status: 'ok' };
    });

    await expect(runtime(fake).verify('/checkpoints/jobs/j/merged', 'openai/gpt-oss-20b')).rejects.toThrow(/instead of a gate result/);
  });
});
