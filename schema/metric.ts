import { builder } from './builder.js';
import { databaseId, globalId } from './ids.js';

builder.prismaObject('MetricPoint', {
  description: 'One logged training or evaluation step. Values that were NaN or infinite are null and named in nonFinite.',
  fields: (t) => ({
    id: t.exposeID('id'),
    runId: t.id({ description: 'Global id of the dataset run, as DatasetRun.id.', resolve: (point) => globalId('DatasetRun', point.runId) }),
    step: t.exposeInt('step'),
    split: t.exposeString('split', { description: '`train` or `eval`.' }),
    loss: t.exposeFloat('loss', { nullable: true }),
    learningRate: t.exposeFloat('learningRate', { nullable: true }),
    gradNorm: t.exposeFloat('gradNorm', { nullable: true }),
    tokensPerSecond: t.exposeFloat('tokensPerSecond', { nullable: true }),
    gpuUtilization: t.exposeFloat('gpuUtilization', { nullable: true, description: 'Percent, 0-100.' }),
    gpuMemoryGb: t.exposeFloat('gpuMemoryGb', { nullable: true }),
    perplexity: t.exposeFloat('perplexity', { nullable: true }),
    nonFinite: t.exposeStringList('nonFinite'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const LatestMetricsType = builder.objectRef<{
  step: number | null;
  trainLoss: number | null;
  evalLoss: number | null;
  learningRate: number | null;
  gpuUtilization: number | null;
  tokensPerSecond: number | null;
}>('LatestMetrics').implement({
  description: 'Newest value of each metric across the job\'s runs.',
  fields: (t) => ({
    step: t.exposeInt('step', { nullable: true }),
    trainLoss: t.exposeFloat('trainLoss', { nullable: true }),
    evalLoss: t.exposeFloat('evalLoss', { nullable: true }),
    learningRate: t.exposeFloat('learningRate', { nullable: true }),
    gpuUtilization: t.exposeFloat('gpuUtilization', { nullable: true }),
    tokensPerSecond: t.exposeFloat('tokensPerSecond', { nullable: true }),
  }),
});

builder.prismaObjectFields('Job', (t) => ({
  metrics: t.relatedConnection('metrics', {
    cursor: 'id',
    maxSize: 5000,
    defaultSize: 1000,
    description: 'Metric history in step order, across runs (each point names its run).',
    args: {
      runId: t.arg.id({ description: 'Only this run.' }),
      afterStep: t.arg.int({ description: 'Only steps after this one.' }),
      split: t.arg.string({ description: '`train` or `eval`.' }),
    },
    query: ({ runId, afterStep, split }) => ({
      where: {
        ...(runId ? { runId: databaseId(runId, 'DatasetRun') } : {}),
        ...(afterStep != null ? { step: { gt: afterStep } } : {}),
        ...(split ? { split } : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    }),
  }),
  latestMetrics: t.field({
    type: LatestMetricsType,
    resolve: async (job, _args, ctx) => {
      const [train, evaluation] = await Promise.all([
        ctx.prisma.metricPoint.findFirst({ where: { jobId: job.id, split: 'train' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
        ctx.prisma.metricPoint.findFirst({ where: { jobId: job.id, split: 'eval' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
      ]);
      return {
        step: train?.step ?? null,
        trainLoss: train?.loss ?? null,
        evalLoss: evaluation?.loss ?? null,
        learningRate: train?.learningRate ?? null,
        gpuUtilization: train?.gpuUtilization ?? null,
        tokensPerSecond: train?.tokensPerSecond ?? null,
      };
    },
  }),
}));
