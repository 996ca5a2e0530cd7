import { formatDuration, type DatasetEstimate, type JobEstimate } from '../server/jobs/estimate.js';
import type { LaunchJobInput as LaunchJobInputShape } from '../server/jobs/input.js';
import { ExecutorUnavailableError } from '../server/executors/types.js';
import { ValidationFailed } from '../server/jobs/service.js';
import { builder } from './builder.js';
import { LaunchJobInput } from './inputs.js';

const DatasetEstimateType = builder.objectRef<DatasetEstimate>('DatasetEstimate').implement({
  fields: (t) => ({
    index: t.exposeInt('index', { description: '0-based position in the training order.' }),
    description: t.exposeString('description', { nullable: true }),
    steps: t.exposeInt('steps'),
    tokens: t.exposeFloat('tokens'),
    durationSeconds: t.exposeInt('durationSeconds'),
    durationText: t.string({ resolve: (estimate) => formatDuration(estimate.durationSeconds) }),
    costUsd: t.exposeFloat('costUsd'),
  }),
});

export const JobEstimateType = builder.objectRef<JobEstimate>('JobEstimate').implement({
  description: 'Estimated duration and Modal cost of a job. An estimate from stated assumptions, not a quote.',
  fields: (t) => ({
    durationSeconds: t.exposeInt('durationSeconds'),
    durationText: t.string({ resolve: (estimate) => formatDuration(estimate.durationSeconds) }),
    costUsd: t.exposeFloat('costUsd'),
    gpuType: t.exposeString('gpuType'),
    gpuCount: t.exposeInt('gpuCount'),
    pricePerGpuHourUsd: t.exposeFloat('pricePerGpuHourUsd'),
    tokensPerSecond: t.exposeInt('tokensPerSecond', { description: 'Assumed training throughput for this GPU choice.' }),
    mergeSeconds: t.exposeInt('mergeSeconds'),
    datasets: t.field({ type: [DatasetEstimateType], resolve: (estimate) => estimate.datasets }),
    assumptions: t.exposeString('assumptions'),
  }),
});

builder.queryField('estimateJob', (t) =>
  t.field({
    type: JobEstimateType,
    description: 'The estimate launchJob would return, without launching.',
    errors: { types: [ValidationFailed, ExecutorUnavailableError] },
    args: { input: t.arg({ type: LaunchJobInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.jobs.estimate(input as LaunchJobInputShape),
  }),
);

const GpuPriceType = builder.objectRef<{ type: string; pricePerHourUsd: number }>('GpuPrice').implement({
  fields: (t) => ({
    type: t.exposeString('type'),
    pricePerHourUsd: t.exposeFloat('pricePerHourUsd'),
  }),
});

builder.queryField('gpuTypes', (t) =>
  t.field({
    type: [GpuPriceType],
    description: 'GPU types a job may request, with the hourly prices used for estimates.',
    resolve: (_root, _args, ctx) => Object.entries(ctx.config.gpuPrices).map(([type, pricePerHourUsd]) => ({ type, pricePerHourUsd })),
  }),
);
