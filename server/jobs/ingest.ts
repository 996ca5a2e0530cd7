import type { JobPhase, Prisma, PrismaClient, RunStatus } from '../db/index.js';
import { eventProblems, type PipelineEvent } from '../executors/contract.js';
import type { Logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { ACTIVE_RUN } from './transitions.js';

const RUN_STATUS_PHASE: Partial<Record<string, JobPhase>> = {
  DOWNLOADING: 'LOADING',
  PROCESSING: 'PROCESSING',
  TRAINING: 'TRAINING',
  EVALUATING: 'EVALUATING',
  MERGING: 'MERGING',
};

export interface IngestDeps {
  prisma: PrismaClient;
  pubsub: PubSub;
  logger: Logger;
}

export interface IngestResult {
  stored: number;
  duplicates: number;
  rejected: number;
  lastSeq: number;
}

/**
 * Stores pipeline events and applies their effects to the job's rows, in one
 * transaction per batch. Idempotent: an event whose (job, stream, seq) is
 * already stored is skipped, so re-reading a file or a redelivered queue item
 * is harmless. Each stored event gets the next per-job sequence number, with
 * no gaps. Invalid events are logged and dropped; they never fail the batch.
 */
export async function ingestEvents(deps: IngestDeps, jobId: string, raw: unknown[]): Promise<IngestResult> {
  const { prisma, logger } = deps;
  const valid: PipelineEvent[] = [];
  let rejected = 0;
  for (const candidate of raw) {
    const problems = eventProblems(candidate);
    if (problems || (candidate as PipelineEvent).job_id !== jobId) {
      rejected += 1;
      logger.warn({ jobId, problems: problems ?? 'event belongs to another job', event: JSON.stringify(candidate).slice(0, 300) }, 'pipeline event rejected');
      continue;
    }
    valid.push(candidate as PipelineEvent);
  }
  if (valid.length === 0) return { stored: 0, duplicates: 0, rejected, lastSeq: -1 };

  const result = await prisma.$transaction(async (tx) => {
    const fresh = await dropStored(tx, jobId, valid);
    if (fresh.length === 0) return { stored: 0, lastSeq: -1 };
    const job = await tx.job.update({ where: { id: jobId }, data: { lastSeq: { increment: fresh.length } }, select: { lastSeq: true } });
    const firstSeq = job.lastSeq - fresh.length + 1;
    await tx.event.createMany({
      data: fresh.map((event, offset) => toRow(jobId, firstSeq + offset, event)),
    });
    await applyEffects(tx, jobId, fresh);
    return { stored: fresh.length, lastSeq: job.lastSeq };
  });

  if (result.stored > 0) {
    deps.pubsub.publish('job:events', { jobId, lastSeq: result.lastSeq });
    deps.pubsub.publish('job:updated', { jobId });
  }
  return { stored: result.stored, duplicates: valid.length - result.stored, rejected, lastSeq: result.lastSeq };
}

async function dropStored(tx: Prisma.TransactionClient, jobId: string, events: PipelineEvent[]): Promise<PipelineEvent[]> {
  const seen = new Set<string>();
  const byStream = new Map<string, number[]>();
  for (const event of events) {
    const seqs = byStream.get(event.stream);
    if (seqs) seqs.push(event.seq);
    else byStream.set(event.stream, [event.seq]);
  }
  for (const [stream, seqs] of byStream) {
    const stored = await tx.event.findMany({
      where: { jobId, stream, streamSeq: { in: seqs } },
      select: { streamSeq: true },
    });
    for (const row of stored) seen.add(`${stream}:${row.streamSeq}`);
  }
  const fresh: PipelineEvent[] = [];
  for (const event of events) {
    const key = `${event.stream}:${event.seq}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fresh.push(event);
  }
  return fresh;
}

function toRow(jobId: string, seq: number, event: PipelineEvent): Prisma.EventCreateManyInput {
  const data = event.data as Record<string, unknown>;
  let level: string | null = null;
  let message: string | null = null;
  if (event.type === 'log') {
    level = String(data.level);
    message = String(data.message);
  } else if (event.type === 'error') {
    level = 'error';
    message = String(data.message);
  } else if (event.type === 'status') {
    level = 'info';
    message = `Status ${String(data.status)}${data.message ? `: ${String(data.message)}` : ''}`;
  }
  const ts = new Date(event.ts);
  return {
    jobId,
    seq,
    runId: event.run_id,
    stage: event.stage,
    attempt: event.attempt,
    stream: event.stream,
    streamSeq: event.seq,
    type: event.type,
    level,
    message,
    data: data as Prisma.InputJsonValue,
    ts: Number.isNaN(ts.getTime()) ? new Date() : ts,
  };
}

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

async function applyEffects(tx: Prisma.TransactionClient, jobId: string, events: PipelineEvent[]): Promise<void> {
  const now = new Date();
  const touchedRuns = new Set<string>();
  const latestProgress = new Map<string, Record<string, unknown>>();
  const metrics: { runId: string; data: Record<string, unknown> }[] = [];
  for (const event of events) {
    const data = event.data as Record<string, unknown>;
    const runId = event.run_id;
    if (runId) touchedRuns.add(runId);
    switch (event.type) {
      case 'status': {
        const status = String(data.status);
        const phase = RUN_STATUS_PHASE[status];
        if (runId && ['DOWNLOADING', 'PROCESSING', 'TRAINING', 'EVALUATING'].includes(status)) {
          await tx.datasetRun.updateMany({ where: { id: runId, status: { in: ACTIVE_RUN } }, data: { status: status as RunStatus } });
        }
        if (phase) await tx.job.updateMany({ where: { id: jobId, status: 'RUNNING' }, data: { phase } });
        break;
      }
      case 'progress':
        // Only the newest progress of each run in the batch is written, below.
        if (runId) latestProgress.set(runId, data);
        break;
      case 'metric':
        if (runId) metrics.push({ runId, data });
        break;
      case 'checkpoint':
        if (runId) {
          await tx.checkpoint.upsert({
            where: { runId_step: { runId, step: Number(data.step) } },
            create: { jobId, runId, step: Number(data.step), path: String(data.path), bytes: num(data.bytes) },
            update: { path: String(data.path), bytes: num(data.bytes) },
          });
        }
        break;
      case 'artifact':
        if (data.kind === 'adapter' && runId) {
          await tx.datasetRun.update({ where: { id: runId }, data: { adapterPath: String(data.path) } });
        } else if (data.kind === 'merged_model') {
          await tx.job.update({ where: { id: jobId }, data: { mergedPath: String(data.path) } });
        }
        break;
      case 'data_report':
        if (runId) {
          await tx.datasetRun.update({
            where: { id: runId },
            data: {
              report: data as Prisma.InputJsonValue,
              datasetSha256: typeof data.dataset_sha256 === 'string' ? data.dataset_sha256 : undefined,
              datasetBytes: num(data.dataset_bytes) ?? undefined,
            },
          });
        }
        break;
      default:
        break;
    }
  }
  for (const [runId, data] of latestProgress) {
    await tx.datasetRun.updateMany({
      where: { id: runId, step: { lte: Number(data.step) } },
      data: { step: Number(data.step), totalSteps: Number(data.total_steps), tokensSeen: num(data.tokens_seen) },
    });
  }
  await storeMetrics(tx, jobId, metrics);

  // Any event is a sign of life; a run marked RECOVERING resumes its last reported state.
  for (const runId of touchedRuns) {
    await tx.datasetRun.updateMany({ where: { id: runId, status: { in: ACTIVE_RUN } }, data: { lastHeartbeatAt: now } });
    const recovering = await tx.datasetRun.findFirst({ where: { id: runId, status: 'RECOVERING' }, select: { id: true } });
    if (recovering) {
      const lastStatus = await tx.event.findFirst({
        where: { jobId, runId, type: 'status' },
        orderBy: { seq: 'desc' },
        select: { data: true },
      });
      const status = String((lastStatus?.data as { status?: string } | null)?.status ?? 'TRAINING');
      const resumed = (['DOWNLOADING', 'PROCESSING', 'TRAINING', 'EVALUATING'].includes(status) ? status : 'TRAINING') as RunStatus;
      await tx.datasetRun.updateMany({ where: { id: runId, status: 'RECOVERING' }, data: { status: resumed } });
    }
  }
}

/**
 * Inserts a batch of metric points with one statement. A step that is already
 * stored (repeated after a resume from checkpoint) replaces the earlier point.
 */
async function storeMetrics(tx: Prisma.TransactionClient, jobId: string, metrics: { runId: string; data: Record<string, unknown> }[]): Promise<void> {
  if (metrics.length === 0) return;
  const rows = new Map<string, Prisma.MetricPointCreateManyInput>();
  for (const { runId, data } of metrics) {
    const row = { jobId, runId, ...metricValues(data) };
    rows.set(`${runId}:${row.split}:${row.step}`, row);
  }
  const stored = await tx.metricPoint.findMany({
    where: { OR: [...rows.values()].map((row) => ({ runId: row.runId, split: row.split, step: row.step })) },
    select: { runId: true, split: true, step: true },
  });
  const repeated = new Set(stored.map((row) => `${row.runId}:${row.split}:${row.step}`));
  await tx.metricPoint.createMany({ data: [...rows.entries()].filter(([key]) => !repeated.has(key)).map(([, row]) => row) });
  for (const key of repeated) {
    const { runId, split, step, jobId: _jobId, ...values } = rows.get(key)!;
    await tx.metricPoint.update({ where: { runId_split_step: { runId, split, step } }, data: values });
  }
}

function metricValues(data: Record<string, unknown>) {
  return {
    split: data.split === 'eval' ? 'eval' : 'train',
    step: Number(data.step),
    loss: num(data.loss),
    learningRate: num(data.learning_rate),
    gradNorm: num(data.grad_norm),
    tokensPerSecond: num(data.tokens_per_second),
    gpuUtilization: num(data.gpu_utilization),
    gpuMemoryGb: num(data.gpu_memory_gb),
    perplexity: num(data.perplexity),
    nonFinite: Array.isArray(data.non_finite) ? data.non_finite.map(String) : [],
  };
}
