import type { DatasetRun, Job, Prisma, PrismaClient } from '../db/index.js';

/**
 * Registers the model version a finished job produced, with its lineage: the
 * job, every run with its dataset file and content hash, the hyperparameters
 * and the final metrics. Idempotent: a job has at most one model version.
 */
export async function registerModel(prisma: PrismaClient, job: Job, runs: DatasetRun[]): Promise<string> {
  const existing = await prisma.modelVersion.findUnique({ where: { jobId: job.id }, select: { id: true } });
  if (existing) return existing.id;

  const succeeded = runs.filter((run) => run.status === 'SUCCEEDED');
  const last = succeeded.at(-1);
  const lastMetrics = (last?.finalMetrics ?? {}) as Record<string, number | null>;
  const name = job.name ?? `${job.modelName.split('/').pop()}-tunedeck`;
  const lineage = {
    jobId: job.id,
    retryOfJobId: job.retryOfJobId,
    initAdapter: job.initAdapter,
    runs: runs.map((run) => ({
      runId: run.id,
      index: run.index,
      status: run.status,
      description: run.description,
      source: run.source,
      repo: run.repo,
      file: run.file,
      revision: run.revision,
      path: run.path,
      datasetSha256: run.datasetSha256,
      datasetBytes: run.datasetBytes,
      finalMetrics: run.finalMetrics,
    })),
  };
  const metrics = {
    finalTrainLoss: lastMetrics.final_train_loss ?? null,
    finalEvalLoss: lastMetrics.eval_loss ?? null,
    perplexity: lastMetrics.perplexity ?? null,
  };

  // Version numbers count per name; retry when two jobs with one name finish together.
  for (let tries = 0; ; tries += 1) {
    const latest = await prisma.modelVersion.findFirst({ where: { name }, orderBy: { version: 'desc' }, select: { version: true } });
    try {
      const model = await prisma.modelVersion.create({
        data: {
          name,
          version: (latest?.version ?? 0) + 1,
          jobId: job.id,
          baseModel: job.modelName,
          adapterPath: last?.adapterPath ?? null,
          mergedPath: job.mergedPath,
          metrics: metrics as Prisma.InputJsonValue,
          lineage: lineage as Prisma.InputJsonValue,
          hyperparameters: { ...(job.training as object), maxSeqLength: job.maxSeqLength, reasoningEffort: job.reasoningEffort } as Prisma.InputJsonValue,
        },
      });
      return model.id;
    } catch (error) {
      if (tries >= 3) throw error;
      const again = await prisma.modelVersion.findUnique({ where: { jobId: job.id }, select: { id: true } });
      if (again) return again.id;
    }
  }
}
