import type { JobStatus, Prisma, PrismaClient, RunStatus } from '../db/index.js';

export const TERMINAL_JOB: JobStatus[] = ['CANCELLED', 'FAILED', 'SUCCEEDED'];
export const ACTIVE_JOB: JobStatus[] = ['QUEUED', 'RUNNING', 'CANCELLING'];
export const TERMINAL_RUN: RunStatus[] = ['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED'];
/** Run states in which a stage is (or should be) executing. */
export const ACTIVE_RUN: RunStatus[] = ['DOWNLOADING', 'PROCESSING', 'TRAINING', 'EVALUATING', 'RECOVERING'];

type Client = PrismaClient | Prisma.TransactionClient;

/**
 * Conditional update of a job: applies `data` only while the job is in one of
 * `from`. Returns false when another writer got there first, so a terminal
 * state is never overwritten.
 */
export async function transitionJob(db: Client, jobId: string, from: JobStatus[], data: Prisma.JobUpdateManyMutationInput): Promise<boolean> {
  const { count } = await db.job.updateMany({ where: { id: jobId, status: { in: from } }, data });
  return count === 1;
}

/** Conditional update of a dataset run, as transitionJob. */
export async function transitionRun(db: Client, runId: string, from: RunStatus[], data: Prisma.DatasetRunUpdateManyMutationInput): Promise<boolean> {
  const { count } = await db.datasetRun.updateMany({ where: { id: runId, status: { in: from } }, data });
  return count === 1;
}
