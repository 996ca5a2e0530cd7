import { stat } from 'node:fs/promises';
import type { Job, Prisma, PrismaClient } from '../db/index.js';
import { ExecutorUnavailableError, type Executor } from '../executors/types.js';
import type { Logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { estimateJob, type JobEstimate } from './estimate.js';
import { hashJob, validateLaunchInput, type FieldError, type LaunchJobInput, type NormalizedJob } from './input.js';
import type { Orchestrator } from './orchestrator.js';
import { ACTIVE_JOB, TERMINAL_JOB, transitionJob, transitionRun } from './transitions.js';

/** Expected failures of job operations; the GraphQL layer returns them as typed results. */
export class ValidationFailed extends Error {
  override name = 'ValidationFailed';
  constructor(readonly fieldErrors: FieldError[]) {
    super(`Invalid input: ${fieldErrors.map((error) => error.message).join(' ')}`);
  }
}

export class IdempotencyConflict extends Error {
  override name = 'IdempotencyConflict';
  constructor(
    readonly idempotencyKey: string,
    readonly existingJobId: string,
  ) {
    super(`Idempotency key "${idempotencyKey}" was already used for job ${existingJobId} with different input. Use a new key for a different job.`);
  }
}

export class NotFound extends Error {
  override name = 'NotFound';
}

export class InvalidState extends Error {
  override name = 'InvalidState';
  constructor(
    message: string,
    readonly currentStatus: string,
  ) {
    super(message);
  }
}

export interface JobServiceOptions {
  prisma: PrismaClient;
  pubsub: PubSub;
  logger: Logger;
  executors: Partial<Record<'LOCAL' | 'MODAL', Executor>>;
  orchestrator: Orchestrator;
  defaultExecutor: 'LOCAL' | 'MODAL';
  gpuPrices: Record<string, number>;
  tokensPerSecond: number;
}

/** Job operations behind the GraphQL mutations: launch, estimate, cancel and retry. */
export class JobService {
  constructor(private readonly options: JobServiceOptions) {}

  get gpuTypes(): string[] {
    return Object.keys(this.options.gpuPrices);
  }

  validate(input: LaunchJobInput): NormalizedJob {
    const result = validateLaunchInput(input, { gpuTypes: this.gpuTypes, defaultExecutor: this.options.defaultExecutor });
    if (!result.ok) throw new ValidationFailed(result.errors);
    return result.job;
  }

  /**
   * Checks that local dataset files exist when the pipeline runs on this
   * machine, so a typo fails at launch rather than minutes later in the queue.
   */
  private async checkLocalFiles(input: LaunchJobInput, job: NormalizedJob): Promise<void> {
    if (job.executor !== 'LOCAL') return;
    const errors: FieldError[] = [];
    for (const [index, dataset] of input.datasets.entries()) {
      if (dataset.source !== 'LOCAL' || !dataset.path) continue;
      const info = await stat(dataset.path).catch(() => null);
      const at = `datasets[${index}].path`;
      if (!info) errors.push({ path: at, message: `${at} ${dataset.path} does not exist on the server's machine.`, value: JSON.stringify(dataset.path), allowed: 'an existing CSV file' });
      else if (!info.isFile()) errors.push({ path: at, message: `${at} ${dataset.path} is not a file.`, value: JSON.stringify(dataset.path), allowed: 'an existing CSV file' });
    }
    if (errors.length > 0) throw new ValidationFailed(errors);
  }

  estimate(input: LaunchJobInput): JobEstimate {
    return estimateJob(this.validate(input), this.options);
  }

  async launch(input: LaunchJobInput): Promise<{ job: Job; created: boolean }> {
    const { prisma, logger } = this.options;
    const normalized = this.validate(input);
    await this.checkLocalFiles(input, normalized);
    const inputHash = hashJob(normalized);
    const key = input.idempotencyKey?.trim() || null;

    if (key) {
      const existing = await prisma.job.findUnique({ where: { idempotencyKey: key } });
      if (existing) return this.replay(existing, key, inputHash);
    }

    const executor = this.options.executors[normalized.executor];
    if (!executor) {
      throw new ExecutorUnavailableError(`The ${normalized.executor.toLowerCase()} executor is not enabled on this server.`, 'Set TUNEDECK_EXECUTOR or choose another executor.');
    }
    await executor.preflight();

    const estimate = estimateJob(normalized, this.options);
    let job: Job;
    try {
      job = await prisma.job.create({ data: this.jobData(normalized, inputHash, key, estimate) });
    } catch (error) {
      // Two launches with one key at the same moment: the loser returns the winner's job.
      if (key && (error as { code?: string }).code === 'P2002') {
        const existing = await prisma.job.findUnique({ where: { idempotencyKey: key } });
        if (existing) return this.replay(existing, key, inputHash);
      }
      throw error;
    }

    this.options.pubsub.publish('jobs:changed', { jobId: job.id });
    logger.info({ jobId: job.id, executor: job.executor, datasets: normalized.datasets.length }, 'job submitted');
    this.options.orchestrator.kick();
    return { job, created: true };
  }

  private replay(existing: Job, key: string, inputHash: string) {
    if (existing.inputHash !== inputHash) throw new IdempotencyConflict(key, existing.id);
    return { job: existing, created: false };
  }

  private jobData(job: NormalizedJob, inputHash: string, key: string | null, estimate: JobEstimate, extra: Partial<Prisma.JobCreateInput> = {}): Prisma.JobCreateInput {
    return {
      name: job.name,
      executor: job.executor,
      modelName: job.modelName,
      maxSeqLength: job.maxSeqLength,
      reasoningEffort: job.reasoningEffort,
      training: job.training as unknown as Prisma.InputJsonValue,
      gpuType: job.gpu.type,
      gpuCount: job.gpu.count,
      timeoutHours: job.gpu.timeoutHours,
      continueOnFailure: job.queue.continueOnFailure,
      mergeAdapters: job.queue.mergeAdapters,
      sequential: job.queue.sequential,
      idempotencyKey: key,
      inputHash,
      estimate: estimate as unknown as Prisma.InputJsonValue,
      ...extra,
      runs: {
        create: job.datasets.map((dataset, index) => ({
          index,
          priority: dataset.priority,
          source: dataset.source,
          repo: dataset.repo,
          file: dataset.file,
          revision: dataset.revision,
          path: dataset.path,
          format: dataset.format,
          trainSplit: dataset.trainSplit,
          description: dataset.description,
          columnMapping: (dataset.columnMapping ?? undefined) as Prisma.InputJsonValue | undefined,
          qualityThreshold: dataset.qualityThreshold,
          topicsInclude: dataset.topicsInclude,
          topicsExclude: dataset.topicsExclude,
          maxRows: dataset.maxRows,
          totalSteps: job.training.maxStepsPerDataset,
        })),
      },
    };
  }

  /** Moves a job to CANCELLING; the orchestrator stops its stages and then marks it CANCELLED. Repeating it is harmless. */
  async cancel(jobId: string): Promise<Job> {
    const { prisma, logger } = this.options;
    const job = await prisma.job.findUnique({ where: { id: jobId } });
    if (!job) throw new NotFound(`No job with id ${jobId}.`);
    if (job.status === 'CANCELLING' || job.status === 'CANCELLED') return job;
    if (TERMINAL_JOB.includes(job.status)) {
      throw new InvalidState(`Job ${jobId} already ended with status ${job.status}; only queued or running jobs can be cancelled.`, job.status);
    }
    const moved = await transitionJob(prisma, jobId, ['QUEUED', 'RUNNING'], { status: 'CANCELLING', cancelRequestedAt: new Date() });
    if (moved) {
      logger.info({ jobId }, 'job cancellation requested');
      this.options.pubsub.publish('job:updated', { jobId });
      this.options.pubsub.publish('jobs:changed', { jobId });
      this.options.orchestrator.kick();
    }
    return prisma.job.findUniqueOrThrow({ where: { id: jobId } });
  }

  /**
   * Retries a failed dataset run. While its job still runs (continueOnFailure),
   * the run is queued again. When the job has ended, its state stays as it is
   * and a new job retries from that dataset on, starting from the adapter of
   * the last run that succeeded before it.
   */
  async retryRun(runId: string, idempotencyKey?: string | null): Promise<Job> {
    const { prisma, logger } = this.options;
    const run = await prisma.datasetRun.findUnique({ where: { id: runId }, include: { job: { include: { runs: { orderBy: { index: 'asc' } } } } } });
    if (!run) throw new NotFound(`No dataset run with id ${runId}.`);
    if (run.status !== 'FAILED' && run.status !== 'CANCELLED' && run.status !== 'SKIPPED') {
      throw new InvalidState(`Dataset run ${runId} is ${run.status}; only FAILED, CANCELLED or SKIPPED runs can be retried.`, run.status);
    }
    const job = run.job;
    if (ACTIVE_JOB.includes(job.status)) {
      if (job.status === 'CANCELLING') throw new InvalidState(`Job ${job.id} is being cancelled; retry after it ends.`, job.status);
      await transitionRun(prisma, runId, ['FAILED', 'CANCELLED', 'SKIPPED'], { status: 'QUEUED', error: null, finishedAt: null, executorRef: null });
      logger.info({ jobId: job.id, runId }, 'dataset run queued again');
      this.options.pubsub.publish('job:updated', { jobId: job.id });
      this.options.orchestrator.kick();
      return prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    }

    const key = idempotencyKey?.trim() || `retry:${runId}`;
    const existing = await prisma.job.findUnique({ where: { idempotencyKey: key } });
    if (existing) return existing;
    const previous = job.runs.filter((other) => other.index < run.index && other.status === 'SUCCEEDED' && other.adapterPath).at(-1);
    const remaining = job.runs.filter((other) => other.index >= run.index);
    const training = job.training as unknown as NormalizedJob['training'];
    const normalized: NormalizedJob = {
      name: job.name,
      modelName: job.modelName,
      maxSeqLength: job.maxSeqLength,
      reasoningEffort: job.reasoningEffort as NormalizedJob['reasoningEffort'],
      training,
      gpu: { type: job.gpuType, count: job.gpuCount, timeoutHours: job.timeoutHours },
      queue: { sequential: true, continueOnFailure: job.continueOnFailure, mergeAdapters: job.mergeAdapters },
      executor: job.executor,
      datasets: remaining.map((other) => ({
        source: other.source as 'HUGGINGFACE' | 'LOCAL',
        repo: other.repo,
        file: other.file,
        revision: other.revision,
        path: other.path,
        format: 'csv',
        trainSplit: other.trainSplit,
        priority: other.priority,
        description: other.description,
        columnMapping: other.columnMapping as NormalizedJob['datasets'][number]['columnMapping'],
        qualityThreshold: other.qualityThreshold,
        topicsInclude: other.topicsInclude,
        topicsExclude: other.topicsExclude,
        maxRows: other.maxRows,
      })),
    };
    const estimate = estimateJob(normalized, this.options);
    const created = await prisma.job.create({
      data: this.jobData(normalized, hashJob(normalized), key, estimate, { retryOfJobId: job.id, initAdapter: previous?.adapterPath ?? job.initAdapter }),
    });
    logger.info({ jobId: created.id, retryOfJobId: job.id, runId }, 'failed job retried as a new job');
    this.options.pubsub.publish('jobs:changed', { jobId: created.id });
    this.options.orchestrator.kick();
    return created;
  }
}
