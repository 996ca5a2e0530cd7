import type { DatasetRun, Job } from '../server/db/index.js';
import { ExecutorUnavailableError } from '../server/executors/types.js';
import type { JobEstimate } from '../server/jobs/estimate.js';
import type { LaunchJobInput as LaunchJobInputShape } from '../server/jobs/input.js';
import { IdempotencyConflict, InvalidState, NotFound, ValidationFailed } from '../server/jobs/service.js';
import { ACTIVE_RUN, TERMINAL_RUN } from '../server/jobs/transitions.js';
import { builder } from './builder.js';
import { databaseId, nonEmptyQuery } from './ids.js';
import { ExecutorKindEnum, JobPhaseEnum, JobStatusEnum, RunStatusEnum } from './enums.js';
import { JobEstimateType } from './estimate.js';
import { LaunchJobInput } from './inputs.js';

const runFraction = (run: Pick<DatasetRun, 'status' | 'step' | 'totalSteps'>): number => {
  if (TERMINAL_RUN.includes(run.status)) return 1;
  if (run.totalSteps <= 0) return 0;
  return Math.min(1, run.step / run.totalSteps);
};

/** Share of a job's progress given to merging and registering, when the job merges. */
const MERGE_SHARE = 0.05;

/**
 * Computes overall progress from 0 to 1. Finished runs count whole and the
 * active run counts by its step. The last 5% is the merge, so a merging job
 * never shows 100%.
 */
export function jobProgress(job: Pick<Job, 'status' | 'mergeAdapters'>, runs: Pick<DatasetRun, 'status' | 'step' | 'totalSteps'>[]): number {
  if (job.status === 'SUCCEEDED') return 1;
  if (runs.length === 0) return 0;
  const trained = runs.reduce((sum, run) => sum + runFraction(run), 0) / runs.length;
  return job.mergeAdapters ? trained * (1 - MERGE_SHARE) : trained;
}

export const DatasetRunType = builder.prismaNode('DatasetRun', {
  id: { field: 'id' },
  description: 'One dataset of a job and its training run.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: '0-based position in the training order.' }),
    position: t.int({ description: '1-based position, for display ("dataset 2 of 3").', resolve: (run) => run.index + 1 }),
    priority: t.exposeInt('priority'),
    source: t.exposeString('source'),
    repo: t.exposeString('repo', { nullable: true }),
    file: t.exposeString('file', { nullable: true }),
    revision: t.exposeString('revision', { nullable: true }),
    path: t.exposeString('path', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    trainSplit: t.exposeFloat('trainSplit'),
    status: t.expose('status', { type: RunStatusEnum }),
    attempt: t.exposeInt('attempt', { description: 'Launch attempts so far; above 1 after a restart or recovery.' }),
    step: t.exposeInt('step'),
    totalSteps: t.exposeInt('totalSteps'),
    progressPercent: t.float({ resolve: (run) => Math.round(runFraction(run) * 1000) / 10 }),
    tokensSeen: t.exposeFloat('tokensSeen', { nullable: true }),
    report: t.expose('report', { type: 'JSON', nullable: true, description: 'Data-processing report: rows read, kept and dropped per reason, split sizes, warnings.' }),
    finalMetrics: t.expose('finalMetrics', { type: 'JSON', nullable: true, description: 'final_train_loss, eval_loss, perplexity and split sizes.' }),
    datasetSha256: t.exposeString('datasetSha256', { nullable: true }),
    adapterPath: t.exposeString('adapterPath', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    lastHeartbeatAt: t.expose('lastHeartbeatAt', { type: 'DateTime', nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    job: t.relation('job'),
    checkpoints: t.relation('checkpoints', { query: { orderBy: { step: 'asc' } } }),
  }),
});

builder.prismaObject('Checkpoint', {
  fields: (t) => ({
    id: t.exposeID('id'),
    step: t.exposeInt('step'),
    path: t.exposeString('path'),
    bytes: t.exposeFloat('bytes', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    run: t.relation('run'),
  }),
});

const CurrentDatasetType = builder.objectRef<{ run: DatasetRun; total: number }>('CurrentDataset').implement({
  fields: (t) => ({
    position: t.int({ description: '1-based position of the dataset being worked on.', resolve: ({ run }) => run.index + 1 }),
    total: t.exposeInt('total'),
    run: t.field({ type: DatasetRunType, resolve: ({ run }) => run }),
  }),
});

export const JobType = builder.prismaNode('Job', {
  id: { field: 'id' },
  description: 'A multi-dataset fine-tuning job.',
  fields: (t) => ({
    name: t.exposeString('name', { nullable: true }),
    status: t.expose('status', { type: JobStatusEnum }),
    phase: t.expose('phase', { type: JobPhaseEnum, nullable: true }),
    executor: t.expose('executor', { type: ExecutorKindEnum }),
    modelName: t.exposeString('modelName'),
    maxSeqLength: t.exposeInt('maxSeqLength'),
    reasoningEffort: t.exposeString('reasoningEffort'),
    training: t.expose('training', { type: 'JSON', description: 'Training and LoRA hyperparameters as launched.' }),
    gpuType: t.exposeString('gpuType'),
    gpuCount: t.exposeInt('gpuCount'),
    timeoutHours: t.exposeInt('timeoutHours'),
    continueOnFailure: t.exposeBoolean('continueOnFailure'),
    mergeAdapters: t.exposeBoolean('mergeAdapters'),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    retryOfJobId: t.exposeString('retryOfJobId', { nullable: true }),
    lastSeq: t.exposeInt('lastSeq', { description: 'Sequence number of the newest stored event; subscribe to jobEvents with afterSeq to resume.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    estimate: t.field({ type: JobEstimateType, resolve: (job) => job.estimate as unknown as JobEstimate }),
    runs: t.relation('runs', { query: { orderBy: { index: 'asc' } } }),
    checkpoints: t.relation('checkpoints', { query: { orderBy: [{ createdAt: 'asc' }] } }),
    model: t.relation('model', { nullable: true }),
    totalDatasets: t.int({
      select: { runs: { select: { id: true } } },
      resolve: (job) => job.runs.length,
    }),
    datasetsCompleted: t.int({
      description: 'Runs that ended, in any terminal state.',
      select: { runs: { select: { status: true } } },
      resolve: (job) => job.runs.filter((run) => TERMINAL_RUN.includes(run.status)).length,
    }),
    currentDataset: t.field({
      type: CurrentDatasetType,
      nullable: true,
      description: 'The dataset being worked on, or the next one to start; null when all have ended.',
      select: { runs: { orderBy: { index: 'asc' } } },
      resolve: (job) => {
        const run = job.runs.find((candidate) => ACTIVE_RUN.includes(candidate.status)) ?? job.runs.find((candidate) => candidate.status === 'QUEUED');
        return run ? { run, total: job.runs.length } : null;
      },
    }),
    progressPercent: t.float({
      select: { runs: { select: { status: true, step: true, totalSteps: true } } },
      resolve: (job) => Math.round(jobProgress(job, job.runs) * 1000) / 10,
    }),
    elapsedSeconds: t.int({
      nullable: true,
      resolve: (job) => (job.startedAt ? Math.round(((job.finishedAt ?? new Date()).getTime() - job.startedAt.getTime()) / 1000) : null),
    }),
    etaSeconds: t.int({
      nullable: true,
      description: 'Seconds left: from the observed rate once past 2% progress, before that from the estimate. Null when the job has ended.',
      select: { runs: { select: { status: true, step: true, totalSteps: true } } },
      resolve: (job) => {
        if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) return null;
        const progress = jobProgress(job, job.runs);
        const estimate = job.estimate as unknown as JobEstimate;
        if (!job.startedAt || progress < 0.02) return estimate.durationSeconds;
        const elapsed = (Date.now() - job.startedAt.getTime()) / 1000;
        return Math.round((elapsed / progress) * (1 - progress));
      },
    }),
    logsUrl: t.string({ description: 'Plain-text log download; add ?run=<position> for one dataset, &level=warning to filter.', resolve: (job) => `/api/jobs/${job.id}/logs` }),
  }),
});

const JobFilter = builder.inputType('JobFilter', {
  fields: (t) => ({
    status: t.field({ type: [JobStatusEnum], description: 'Only jobs in one of these states.' }),
  }),
});

builder.queryFields((t) => ({
  job: t.prismaField({
    type: 'Job',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.prisma.job.findUnique({ ...nonEmptyQuery(query), where: { id: databaseId(id, 'Job') } }),
  }),
  jobs: t.prismaConnection(
    {
      type: 'Job',
      cursor: 'id',
      maxSize: 100,
      description: 'Jobs, newest first.',
      args: { filter: t.arg({ type: JobFilter }) },
      resolve: (query, _root, { filter }, ctx) =>
        ctx.prisma.job.findMany({
          ...nonEmptyQuery(query),
          where: filter?.status?.length ? { status: { in: filter.status } } : {},
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        }),
      totalCount: (_parent, { filter }, ctx) => ctx.prisma.job.count({ where: filter?.status?.length ? { status: { in: filter.status } } : {} }),
    },
    {},
  ),
}));

const LaunchJobPayload = builder.objectRef<{ job: Job; created: boolean }>('LaunchJobPayload').implement({
  fields: (t) => ({
    job: t.prismaField({ type: 'Job', resolve: (query, payload, _args, ctx) => ctx.prisma.job.findUniqueOrThrow({ ...nonEmptyQuery(query), where: { id: payload.job.id } }) }),
    created: t.exposeBoolean('created', { description: 'False when an earlier launch with the same idempotency key returned this job.' }),
    estimate: t.field({ type: JobEstimateType, resolve: (payload) => payload.job.estimate as unknown as JobEstimate }),
  }),
});

builder.mutationFields((t) => ({
  launchJob: t.field({
    type: LaunchJobPayload,
    description: 'Launches a multi-dataset fine-tuning job. Invalid input comes back as a ValidationError naming each field.',
    errors: { types: [ValidationFailed, IdempotencyConflict, ExecutorUnavailableError] },
    args: { input: t.arg({ type: LaunchJobInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.jobs.launch(input as LaunchJobInputShape),
  }),
  cancelJob: t.prismaField({
    type: 'Job',
    description: 'Stops a queued or running job: it moves to CANCELLING, its stages are stopped, then CANCELLED. Cancelling again is harmless.',
    errors: { types: [NotFound, InvalidState] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const job = await ctx.jobs.cancel(databaseId(id, 'Job'));
      return ctx.prisma.job.findUniqueOrThrow({ ...nonEmptyQuery(query), where: { id: job.id } });
    },
  }),
  retryDatasetRun: t.prismaField({
    type: 'Job',
    description: 'Retries a failed run. In a running job it is queued again; for an ended job a new job retries from that dataset on and is returned.',
    errors: { types: [NotFound, InvalidState] },
    args: { runId: t.arg.id({ required: true }), idempotencyKey: t.arg.string() },
    resolve: async (query, _root, { runId, idempotencyKey }, ctx) => {
      const job = await ctx.jobs.retryRun(databaseId(runId, 'DatasetRun'), idempotencyKey);
      return ctx.prisma.job.findUniqueOrThrow({ ...nonEmptyQuery(query), where: { id: job.id } });
    },
  }),
}));

builder.subscriptionFields((t) => ({
  jobUpdated: t.prismaField({
    type: 'Job',
    description: 'The job, each time its status, phase, progress or a run changes. Sends the current state first.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, { id }, ctx) => watch(ctx.pubsub.subscribe('job:updated', (payload) => payload.jobId === databaseId(id, 'Job')), databaseId(id, 'Job')),
    resolve: (query, jobId: string, _args, ctx) => ctx.prisma.job.findUniqueOrThrow({ ...nonEmptyQuery(query), where: { id: jobId } }),
  }),
  jobsChanged: t.prismaField({
    type: 'Job',
    description: 'Any job that was created or changed state.',
    subscribe: (_root, _args, ctx) => mapIds(ctx.pubsub.subscribe('jobs:changed')),
    resolve: (query, jobId: string, _args, ctx) => ctx.prisma.job.findUniqueOrThrow({ ...nonEmptyQuery(query), where: { id: jobId } }),
  }),
}));

/** Yields the job id at once and then once per burst of notifications. */
async function* watch(subscription: AsyncIterableIterator<{ jobId: string }> & { close(): void }, jobId: string) {
  try {
    yield jobId;
    for await (const payload of subscription) yield payload.jobId;
  } finally {
    subscription.close();
  }
}

async function* mapIds(subscription: AsyncIterableIterator<{ jobId: string }> & { close(): void }) {
  try {
    for await (const payload of subscription) yield payload.jobId;
  } finally {
    subscription.close();
  }
}
