import { cp, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseId, globalId } from '../schema/ids.js';
import { isPipelineProcess } from '../server/executors/local.js';
import { gql, startTestApp, waitFor, type TestApp } from './helpers/app.js';
import { LAUNCH, tinyJobInput } from './helpers/jobs.js';

const MODEL = /* GraphQL */ `
  query Model($id: ID!) {
    model(id: $id) { id name version status gateReason mergedPath deploymentStatus deployments { id status endpointUrl error } }
  }
`;
const DEPLOY = /* GraphQL */ `
  mutation Deploy($id: ID!) {
    deployModel(modelId: $id, endpointConfig: { maxConcurrentRequests: 4, idleTimeoutSeconds: 120 }) {
      __typename
      ... on DeployModelSuccess { data { id status } }
      ... on InvalidStateError { message currentStatus }
    }
  }
`;
const TEST = /* GraphQL */ `
  mutation Test($id: ID!, $compare: Boolean) {
    testModel(modelId: $id, prompt: "Where should I stay in Lisbon?", reasoningEffort: LOW, compareWithBase: $compare) {
      __typename
      ... on TestModelSuccess { data { prompt model { answer reasoning latencyMs promptTokens completionTokens } base { answer completionTokens } } }
      ... on InvalidStateError { message }
    }
  }
`;

async function finishedJob(server: TestApp, input: Record<string, unknown>) {
  const launched = await gql(server.graphqlUrl, LAUNCH, { input });
  const jobId = launched.data.launchJob.data.job.id;
  return waitFor(async () => {
    const job = (await gql(server.graphqlUrl, 'query ($id: ID!) { job(id: $id) { status error model { id } } }', { id: jobId })).data?.job;
    return job && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
  }, { timeoutMs: 240_000, intervalMs: 500, message: 'the job to end' });
}

/**
 * Registers another version of a trained model without training again: a
 * finished job row and a copy of the merged weights. The gate then runs on it
 * like on any new version.
 */
async function copyModel(server: TestApp, sourceModelId: string, name: string, version: number) {
  const prisma = server.app.services.prisma;
  const source = await prisma.modelVersion.findUniqueOrThrow({ where: { id: databaseId(sourceModelId, 'ModelVersion') }, include: { job: true } });
  const { id: _id, createdAt: _createdAt, updatedAt: _updatedAt, idempotencyKey: _key, ...job } = source.job;
  const copy = await prisma.job.create({ data: { ...job, training: job.training as object, estimate: job.estimate as object, status: 'SUCCEEDED' } });
  const mergedPath = path.join(server.dataDir, 'copies', copy.id, 'merged');
  await cp(source.mergedPath!, mergedPath, { recursive: true });
  const model = await prisma.modelVersion.create({
    data: { name, version, jobId: copy.id, baseModel: source.baseModel, mergedPath, metrics: source.metrics as object, lineage: source.lineage as object, hyperparameters: source.hyperparameters as object },
  });
  server.app.services.deployments.kick();
  return globalId('ModelVersion', model.id);
}

async function modelWhen(server: TestApp, id: string, done: (model: any) => boolean, message: string) {
  return waitFor(async () => {
    const model = (await gql(server.graphqlUrl, MODEL, { id })).data?.model;
    return model && done(model) ? model : null;
  }, { timeoutMs: 180_000, intervalMs: 300, message });
}

describe('deployments on the local runtime', () => {
  let server: TestApp;
  let modelId: string;

  beforeAll(async () => {
    server = await startTestApp();
    const job = await finishedJob(server, tinyJobInput({ name: 'deploy-me' }));
    expect(job.status).toBe('SUCCEEDED');
    modelId = job.model.id;
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('passes the merge verification gate', async () => {
    const model = await modelWhen(server, modelId, (candidate) => !['REGISTERED', 'VERIFYING'].includes(candidate.status), 'the gate');
    expect(model.gateReason).toBeNull();
    expect(model.status).toBe('DEPLOYABLE');
  });

  it('deploys, answers a test prompt and undeploys', async () => {
    const deployed = await gql(server.graphqlUrl, DEPLOY, { id: modelId });
    expect(deployed.data.deployModel.__typename).toBe('DeployModelSuccess');
    const ready = await modelWhen(server, modelId, (model) => ['READY', 'FAILED'].includes(model.deploymentStatus), 'READY');
    expect(ready.deployments[0].error).toBeNull();
    expect(ready.deploymentStatus).toBe('READY');
    expect(ready.deployments[0].endpointUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const again = await gql(server.graphqlUrl, DEPLOY, { id: modelId });
    expect(again.data.deployModel.data.id).toBe(ready.deployments[0].id);

    const tested = await gql(server.graphqlUrl, TEST, { id: modelId, compare: true });
    expect(tested.errors).toBeUndefined();
    const result = tested.data.testModel.data;
    expect(typeof result.model.answer).toBe('string');
    expect(result.model.completionTokens).toBeGreaterThan(0);
    expect(result.model.latencyMs).toBeGreaterThanOrEqual(0);
    expect(result.base.completionTokens).toBeGreaterThan(0);

    const deployment = await server.app.services.prisma.deployment.findFirstOrThrow({ where: { modelId: databaseId(modelId, 'ModelVersion') } });
    const pid = Number(deployment.externalRef!.split(':')[1]);
    const undeployed = await gql(server.graphqlUrl, 'mutation ($id: ID!) { undeployModel(modelId: $id) { __typename } }', { id: modelId });
    expect(undeployed.errors).toBeUndefined();
    expect(undeployed.data.undeployModel.__typename).toBe('UndeployModelSuccess');
    const stopped = await modelWhen(server, modelId, (model) => model.deploymentStatus === 'STOPPED', 'STOPPED');
    expect(stopped.deployments[0].status).toBe('STOPPED');
    // Stopped means gone or exited (a zombie waiting to be reaped counts as exited).
    expect(await isPipelineProcess(pid)).toBe(false);
  }, 240_000);

  it('rejects a test prompt without a READY deployment', async () => {
    const tested = await gql(server.graphqlUrl, TEST, { id: modelId, compare: false });
    expect(tested.data.testModel.__typename).toBe('InvalidStateError');
    expect(tested.data.testModel.message).toMatch(/deploy it first/);
  });

  it('refuses a model whose merged files are corrupted', async () => {
    const copyId = await copyModel(server, modelId, 'corrupted', 1);
    const model = await server.app.services.prisma.modelVersion.findUniqueOrThrow({ where: { id: databaseId(copyId, 'ModelVersion') } });
    // The gate may already be running; wait for its verdict, then corrupt and verify again.
    await modelWhen(server, copyId, (candidate) => !['REGISTERED', 'VERIFYING'].includes(candidate.status), 'the first gate');
    const weights = (await readdir(model.mergedPath!)).find((file) => file.endsWith('.safetensors'))!;
    await writeFile(path.join(model.mergedPath!, weights), 'not a safetensors file');
    await server.app.services.prisma.modelVersion.update({ where: { id: model.id }, data: { status: 'REGISTERED', gateReason: null } });
    server.app.services.deployments.kick();
    const refused = await modelWhen(server, copyId, (candidate) => !['REGISTERED', 'VERIFYING'].includes(candidate.status), 'the second gate');
    expect(refused.status).toBe('NOT_DEPLOYABLE');
    expect(refused.gateReason).toMatch(/safetensors/);
    const deploy = await gql(server.graphqlUrl, DEPLOY, { id: copyId });
    expect(deploy.data.deployModel.__typename).toBe('InvalidStateError');
    expect(deploy.data.deployModel.message).toMatch(/failed the merge verification gate/);
  }, 300_000);

  it('rolls back to the previous version', async () => {
    const copyId = await copyModel(server, modelId, 'deploy-me', 2);
    const second = await modelWhen(server, copyId, (model) => model.status === 'DEPLOYABLE', 'version 2 to pass the gate');
    expect(second.version).toBe(2);
    await gql(server.graphqlUrl, DEPLOY, { id: second.id });
    await modelWhen(server, second.id, (model) => model.deploymentStatus === 'READY', 'version 2 READY');

    const rolled = await gql(server.graphqlUrl, 'mutation ($id: ID!) { rollbackDeployment(modelId: $id) { __typename ... on RollbackDeploymentSuccess { data { model { version } } } ... on InvalidStateError { message } } }', { id: second.id });
    expect(rolled.data.rollbackDeployment.__typename).toBe('RollbackDeploymentSuccess');
    expect(rolled.data.rollbackDeployment.data.model.version).toBe(1);
    const first = await modelWhen(server, modelId, (model) => model.deploymentStatus === 'READY', 'version 1 READY again');
    expect(first.deployments).toHaveLength(2);
    const after = (await gql(server.graphqlUrl, MODEL, { id: second.id })).data.model;
    expect(after.deploymentStatus).toBe('STOPPED');

    const refused = await gql(server.graphqlUrl, 'mutation ($id: ID!) { deleteModel(modelId: $id) { __typename ... on InvalidStateError { message } } }', { id: modelId });
    expect(refused.data.deleteModel.__typename).toBe('InvalidStateError');
    expect(refused.data.deleteModel.message).toMatch(/undeploy it before deleting/);
    await gql(server.graphqlUrl, 'mutation ($id: ID!) { undeployModel(modelId: $id) { __typename } }', { id: modelId });
  }, 300_000);

  it('deletes an undeployed model and its merged weights', async () => {
    const model = await server.app.services.prisma.modelVersion.findFirstOrThrow({ where: { name: 'corrupted' } });
    const deleted = await gql(server.graphqlUrl, 'mutation ($id: ID!) { deleteModel(modelId: $id) { __typename ... on DeleteModelSuccess { data } } }', { id: model.id });
    expect(deleted.data.deleteModel.__typename).toBe('DeleteModelSuccess');
    expect(await server.app.services.prisma.modelVersion.findUnique({ where: { id: model.id } })).toBeNull();
    await expect(readdir(model.mergedPath!)).rejects.toThrow();
    expect(await server.app.services.prisma.job.findUnique({ where: { id: model.jobId } })).not.toBeNull();
  });
});
