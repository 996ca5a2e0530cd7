import type { DatasetRun, Job, PrismaClient } from '../db/index.js';
import type { StageRequest, StageResult } from '../executors/contract.js';
import type { Executor, StagePoll } from '../executors/types.js';
import type { Logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { ingestEvents } from './ingest.js';
import { registerModel } from './registry.js';
import { datasetRunRequest, mergeRequest, runOutputDir } from './requests.js';
import { ACTIVE_RUN, TERMINAL_RUN, transitionJob, transitionRun } from './transitions.js';

export interface OrchestratorOptions {
  prisma: PrismaClient;
  pubsub: PubSub;
  logger: Logger;
  executors: Partial<Record<'LOCAL' | 'MODAL', Executor>>;
  maxRunningJobs: number;
  /** A run silent for longer than this is marked RECOVERING (never FAILED for silence alone). */
  heartbeatTimeoutSeconds: number;
  /** How many times a lost stage is started again before its run fails. */
  maxStageRestarts: number;
  /** Milliseconds between passes over the active jobs. */
  pollIntervalMs: number;
}

function resourcesOf(job: Job) {
  return { gpuType: job.gpuType, gpuCount: job.gpuCount, timeoutHours: job.timeoutHours };
}

/** Seconds a stage may stay without an executor handle before it is treated as lost. */
const MISSING_HANDLE_GRACE_SECONDS = 60;

/**
 * Drives every non-terminal job forward. Each pass reads state from the
 * database only, so the first pass after a restart is the reconciler: it
 * re-attaches to running stages through their stored handles, and a restart
 * alone never fails a job.
 */
export class Orchestrator {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** Inert until start(), so an app built without listening drives no jobs. */
  private stopped = true;

  constructor(private readonly options: OrchestratorOptions) {}

  start(): void {
    this.stopped = false;
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs a pass soon; passes never overlap. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.pass()
      .catch((error) => this.options.logger.error({ err: error }, 'orchestrator pass failed'))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        const delay = this.again ? 0 : this.options.pollIntervalMs;
        this.again = false;
        this.timer = setTimeout(() => this.kick(), delay);
      });
  }

  /** Runs one pass over all active jobs; exposed for tests. */
  async pass(): Promise<void> {
    const { prisma } = this.options;
    const jobs = await prisma.job.findMany({ where: { status: { in: ['QUEUED', 'RUNNING', 'CANCELLING'] } }, orderBy: { createdAt: 'asc' } });
    let runningCount = jobs.filter((job) => job.status !== 'QUEUED').length;
    for (const job of jobs) {
      if (this.stopped) return;
      try {
        if (job.status === 'QUEUED') {
          if (runningCount >= this.options.maxRunningJobs) continue;
          if (await transitionJob(prisma, job.id, ['QUEUED'], { status: 'RUNNING', phase: 'LOADING', startedAt: new Date() })) {
            runningCount += 1;
            this.changed(job.id);
            this.options.logger.info({ jobId: job.id }, 'job started');
            await this.advance({ ...job, status: 'RUNNING' });
          }
        } else if (job.status === 'RUNNING') {
          await this.advance(job);
        } else {
          await this.advanceCancel(job);
        }
      } catch (error) {
        this.options.logger.error({ err: error, jobId: job.id }, 'job pass failed; it is retried on the next pass');
      }
    }
  }

  private executor(job: Job): Executor {
    const executor = this.options.executors[job.executor];
    if (!executor) throw new Error(`Executor ${job.executor} is not configured on this server.`);
    return executor;
  }

  private changed(jobId: string): void {
    this.options.pubsub.publish('job:updated', { jobId });
    this.options.pubsub.publish('jobs:changed', { jobId });
  }

  private async advance(job: Job): Promise<void> {
    const runs = await this.options.prisma.datasetRun.findMany({ where: { jobId: job.id }, orderBy: { index: 'asc' } });
    const active = runs.find((run) => ACTIVE_RUN.includes(run.status));
    if (active) {
      await this.watchRun(job, active);
      return;
    }
    const next = runs.find((run) => run.status === 'QUEUED');
    if (next) {
      await this.startRun(job, runs, next);
      return;
    }
    await this.finishJob(job, runs);
  }

  private async startRun(job: Job, runs: DatasetRun[], run: DatasetRun): Promise<void> {
    const { prisma, logger } = this.options;
    const executor = this.executor(job);
    const previous = runs.filter((other) => other.index < run.index && other.status === 'SUCCEEDED' && other.adapterPath).at(-1);
    const outputDir = run.outputDir ?? runOutputDir(executor.jobOutputDir(job.id), run);
    const initAdapter = previous?.adapterPath ?? job.initAdapter;

    // Write intent first: the run is DOWNLOADING with a new attempt before anything is spawned.
    const claimed = await transitionRun(prisma, run.id, ['QUEUED', 'RECOVERING'], {
      status: 'DOWNLOADING',
      attempt: { increment: 1 },
      executorRef: null,
      outputDir,
      initAdapter,
      startedAt: run.startedAt ?? new Date(),
      lastHeartbeatAt: new Date(),
      error: null,
    });
    if (!claimed) return;
    await transitionJob(prisma, job.id, ['RUNNING'], { phase: 'LOADING' });
    const stored = await prisma.datasetRun.findUniqueOrThrow({ where: { id: run.id } });
    const request = datasetRunRequest(job, stored);
    try {
      const ref = await executor.start(request, resourcesOf(job));
      await prisma.datasetRun.update({ where: { id: run.id }, data: { executorRef: ref } });
      logger.info({ jobId: job.id, runId: run.id, attempt: stored.attempt, ref }, 'dataset run started');
    } catch (error) {
      logger.error({ err: error, jobId: job.id, runId: run.id }, 'dataset run could not start');
      await this.endRun(job, stored, { status: 'FAILED', error: `Could not start the pipeline: ${(error as Error).message}` });
    }
    this.changed(job.id);
  }

  private async watchRun(job: Job, run: DatasetRun): Promise<void> {
    const { prisma, logger } = this.options;
    if (!run.executorRef) {
      const since = (Date.now() - (run.updatedAt?.getTime() ?? 0)) / 1000;
      if (since > MISSING_HANDLE_GRACE_SECONDS) {
        // NOTE: the server stopped between spawning and storing the handle; a local
        // process from that attempt may still run, unwatched, until it ends.
        await this.restartOrFail(job, run, 'The server stopped before it stored the handle of the started stage.');
      }
      return;
    }
    const request = datasetRunRequest(job, run);
    const poll = await this.executor(job).poll(run.executorRef, request);
    await this.ingest(job.id, poll);
    if (poll.state === 'finished' && poll.result) {
      await this.endRun(job, run, poll.result);
    } else if (poll.state === 'lost') {
      await this.restartOrFail(job, run, poll.reason ?? 'The stage ended without a result.');
    } else {
      const fresh = await prisma.datasetRun.findUnique({ where: { id: run.id }, select: { lastHeartbeatAt: true, status: true } });
      const silentSeconds = (Date.now() - (fresh?.lastHeartbeatAt?.getTime() ?? 0)) / 1000;
      if (fresh && fresh.status !== 'RECOVERING' && silentSeconds > this.options.heartbeatTimeoutSeconds) {
        if (await transitionRun(prisma, run.id, ACTIVE_RUN, { status: 'RECOVERING' })) {
          logger.warn({ jobId: job.id, runId: run.id, silentSeconds: Math.round(silentSeconds) }, 'no heartbeat from the dataset run; marked RECOVERING');
          this.changed(job.id);
        }
      }
    }
  }

  private async ingest(jobId: string, poll: StagePoll): Promise<void> {
    if (poll.events.length === 0) return;
    await ingestEvents(this.options, jobId, poll.events);
  }

  private async restartOrFail(job: Job, run: DatasetRun, reason: string): Promise<void> {
    const { prisma, logger } = this.options;
    if (run.attempt <= this.options.maxStageRestarts) {
      logger.warn({ jobId: job.id, runId: run.id, attempt: run.attempt, reason }, 'dataset run lost; starting it again from its newest checkpoint');
      if (await transitionRun(prisma, run.id, ACTIVE_RUN, { status: 'RECOVERING', error: reason })) {
        const runs = await prisma.datasetRun.findMany({ where: { jobId: job.id }, orderBy: { index: 'asc' } });
        const current = runs.find((other) => other.id === run.id)!;
        await this.startRun(job, runs, current);
      }
      return;
    }
    await this.endRun(job, run, { status: 'FAILED', error: `${reason} Gave up after ${run.attempt} attempts.` });
  }

  private async endRun(job: Job, run: DatasetRun, result: StageResult): Promise<void> {
    const { prisma, logger } = this.options;
    const finishedAt = new Date();
    const ended = await transitionRun(prisma, run.id, [...ACTIVE_RUN, 'QUEUED'], {
      status: result.status,
      finishedAt,
      error: result.status === 'SUCCEEDED' ? null : result.error ?? 'The stage failed without a message.',
      finalMetrics: result.metrics ?? undefined,
      adapterPath: result.adapter_path ?? undefined,
      datasetSha256: result.dataset_sha256 ?? undefined,
    });
    if (!ended) return;
    logger.info({ jobId: job.id, runId: run.id, status: result.status, error: result.error }, 'dataset run ended');
    if (result.status === 'FAILED' && !job.continueOnFailure) {
      await prisma.datasetRun.updateMany({ where: { jobId: job.id, status: 'QUEUED' }, data: { status: 'SKIPPED' } });
      await transitionJob(prisma, job.id, ['RUNNING'], {
        status: 'FAILED',
        phase: null,
        finishedAt,
        error: `Dataset ${run.index + 1} (${run.description ?? run.file ?? run.path}) failed: ${result.error ?? 'no message'}`,
      });
      logger.warn({ jobId: job.id, runId: run.id }, 'job failed because a dataset run failed and continueOnFailure is off');
    }
    this.changed(job.id);
  }

  private async finishJob(job: Job, runs: DatasetRun[]): Promise<void> {
    const { prisma, logger } = this.options;
    const succeeded = runs.filter((run) => run.status === 'SUCCEEDED');
    const last = succeeded.at(-1);
    if (!last || !last.adapterPath) {
      await transitionJob(prisma, job.id, ['RUNNING'], { status: 'FAILED', phase: null, finishedAt: new Date(), error: 'No dataset run succeeded, so there is no adapter to register.' });
      this.changed(job.id);
      return;
    }
    if (job.mergeAdapters && !job.mergedPath) {
      await this.driveMerge(job, last.adapterPath);
      return;
    }
    await transitionJob(prisma, job.id, ['RUNNING'], { phase: 'REGISTERING' });
    const modelId = await registerModel(prisma, { ...job, mergedPath: job.mergedPath }, runs);
    if (await transitionJob(prisma, job.id, ['RUNNING'], { status: 'SUCCEEDED', phase: null, finishedAt: new Date() })) {
      logger.info({ jobId: job.id, modelId }, 'job succeeded; model registered');
      this.options.pubsub.publish('model:updated', { modelId });
    }
    this.changed(job.id);
  }

  private async driveMerge(job: Job, adapter: string): Promise<void> {
    const { prisma, logger } = this.options;
    const executor = this.executor(job);
    const outputDir = `${executor.jobOutputDir(job.id)}/merge`;
    if (!job.mergeRef) {
      if (job.mergeAttempt > this.options.maxStageRestarts) {
        await transitionJob(prisma, job.id, ['RUNNING'], { status: 'FAILED', phase: null, finishedAt: new Date(), error: `Merging the adapter failed after ${job.mergeAttempt} attempts.` });
        this.changed(job.id);
        return;
      }
      const updated = await prisma.job.update({ where: { id: job.id }, data: { phase: 'MERGING', mergeAttempt: { increment: 1 } } });
      const ref = await executor.start(mergeRequest(updated, adapter, outputDir), resourcesOf(job));
      await prisma.job.update({ where: { id: job.id }, data: { mergeRef: ref } });
      logger.info({ jobId: job.id, ref }, 'merge started');
      this.changed(job.id);
      return;
    }
    const poll = await executor.poll(job.mergeRef, mergeRequest(job, adapter, outputDir));
    await this.ingest(job.id, poll);
    if (poll.state === 'running') return;
    if (poll.state === 'lost' || poll.result?.status !== 'SUCCEEDED') {
      const reason = poll.state === 'lost' ? poll.reason : poll.result?.error;
      logger.warn({ jobId: job.id, reason }, 'merge did not succeed');
      if (poll.state === 'lost') {
        await prisma.job.update({ where: { id: job.id }, data: { mergeRef: null } });
        return;
      }
      await transitionJob(prisma, job.id, ['RUNNING'], { status: 'FAILED', phase: null, finishedAt: new Date(), error: `Merging the adapter failed: ${reason ?? 'no message'}` });
      this.changed(job.id);
      return;
    }
    const mergedPath = poll.result.merged_path ?? `${outputDir}/merged`;
    await prisma.job.update({ where: { id: job.id }, data: { mergedPath } });
    const runs = await prisma.datasetRun.findMany({ where: { jobId: job.id }, orderBy: { index: 'asc' } });
    await this.finishJob({ ...job, mergedPath }, runs);
  }

  private async advanceCancel(job: Job): Promise<void> {
    const { prisma, logger } = this.options;
    const executor = this.options.executors[job.executor];
    const runs = await prisma.datasetRun.findMany({ where: { jobId: job.id }, orderBy: { index: 'asc' } });
    let pending = false;
    for (const run of runs.filter((candidate) => ACTIVE_RUN.includes(candidate.status))) {
      if (run.executorRef && executor) {
        const confirmed = await executor.cancel(run.executorRef);
        const poll = await executor.poll(run.executorRef, datasetRunRequest(job, run)).catch(() => null);
        if (poll) await this.ingest(job.id, poll);
        if (!confirmed) {
          pending = true;
          continue;
        }
      }
      await transitionRun(prisma, run.id, ACTIVE_RUN, { status: 'CANCELLED', finishedAt: new Date(), error: 'Cancelled by request.' });
    }
    if (job.mergeRef && !job.mergedPath && executor) {
      if (!(await executor.cancel(job.mergeRef))) pending = true;
    }
    if (pending) return;
    await prisma.datasetRun.updateMany({ where: { jobId: job.id, status: 'QUEUED' }, data: { status: 'CANCELLED' } });
    if (await transitionJob(prisma, job.id, ['CANCELLING'], { status: 'CANCELLED', phase: null, finishedAt: new Date() })) {
      logger.info({ jobId: job.id }, 'job cancelled');
    }
    this.changed(job.id);
  }
}

export type { StageRequest };
export { TERMINAL_RUN };
