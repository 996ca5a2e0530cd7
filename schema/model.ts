import { builder } from './builder.js';
import { databaseId, nonEmptyQuery } from './ids.js';
import { DeploymentStatusEnum, ExecutorKindEnum, ModelStatusEnum } from './enums.js';

const ModelMetricsType = builder.objectRef<{ finalTrainLoss: number | null; finalEvalLoss: number | null; perplexity: number | null }>('ModelMetrics').implement({
  fields: (t) => ({
    finalTrainLoss: t.exposeFloat('finalTrainLoss', { nullable: true }),
    finalEvalLoss: t.exposeFloat('finalEvalLoss', { nullable: true }),
    perplexity: t.exposeFloat('perplexity', { nullable: true }),
  }),
});

builder.prismaNode('ModelVersion', {
  id: { field: 'id' },
  description: 'A registered fine-tuned model: one per successful job, versioned per name.',
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeInt('version'),
    baseModel: t.exposeString('baseModel'),
    status: t.expose('status', { type: ModelStatusEnum }),
    gateReason: t.exposeString('gateReason', { nullable: true, description: 'Why the merge verification gate marked this version not deployable.' }),
    adapterPath: t.exposeString('adapterPath', { nullable: true }),
    mergedPath: t.exposeString('mergedPath', { nullable: true }),
    metrics: t.field({ type: ModelMetricsType, resolve: (model) => model.metrics as { finalTrainLoss: number | null; finalEvalLoss: number | null; perplexity: number | null } }),
    lineage: t.expose('lineage', { type: 'JSON', description: 'The job, its runs, dataset files and their sha256 hashes.' }),
    hyperparameters: t.expose('hyperparameters', { type: 'JSON' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    job: t.relation('job'),
    deployments: t.relation('deployments', { query: { orderBy: { createdAt: 'desc' } } }),
    deploymentStatus: t.field({
      type: DeploymentStatusEnum,
      nullable: true,
      description: 'Status of the newest deployment, or null when never deployed.',
      select: { deployments: { orderBy: { createdAt: 'desc' }, take: 1, select: { status: true } } },
      resolve: (model) => model.deployments[0]?.status ?? null,
    }),
  }),
});

builder.prismaNode('Deployment', {
  id: { field: 'id' },
  fields: (t) => ({
    status: t.expose('status', { type: DeploymentStatusEnum }),
    executor: t.expose('executor', { type: ExecutorKindEnum }),
    gpuType: t.exposeString('gpuType'),
    maxConcurrentRequests: t.exposeInt('maxConcurrentRequests'),
    autoScale: t.exposeBoolean('autoScale'),
    idleTimeoutSeconds: t.exposeInt('idleTimeoutSeconds'),
    endpointUrl: t.exposeString('endpointUrl', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    readyAt: t.expose('readyAt', { type: 'DateTime', nullable: true }),
    stoppedAt: t.expose('stoppedAt', { type: 'DateTime', nullable: true }),
    model: t.relation('model'),
  }),
});

builder.queryFields((t) => ({
  model: t.prismaField({
    type: 'ModelVersion',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.prisma.modelVersion.findUnique({ ...nonEmptyQuery(query), where: { id: databaseId(id, 'ModelVersion') } }),
  }),
  models: t.prismaConnection({
    type: 'ModelVersion',
    cursor: 'id',
    maxSize: 100,
    description: 'Model versions, newest first.',
    args: { name: t.arg.string({ description: 'Only versions with this name.' }) },
    resolve: (query, _root, { name }, ctx) =>
      ctx.prisma.modelVersion.findMany({ ...nonEmptyQuery(query), where: name ? { name } : {}, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    totalCount: (_parent, { name }, ctx) => ctx.prisma.modelVersion.count({ where: name ? { name } : {} }),
  }),
}));
