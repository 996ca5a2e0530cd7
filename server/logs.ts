import type { PrismaClient } from './db/index.js';

const LEVELS = ['debug', 'info', 'warning', 'error'] as const;
const PAGE = 2000;

export class LogRequestError extends Error {
  override name = 'LogRequestError';
}

/**
 * Writes a job's log as plain text, one line per log, status or error event:
 * `<time> <LEVEL> [dataset <n>] <message>`. `run` is the 1-based dataset
 * position; `level` is the lowest level shown.
 */
export async function* jobLogLines(prisma: PrismaClient, jobId: string, options: { run?: string | null; level?: string | null }): AsyncGenerator<string> {
  const job = await prisma.job.findUnique({ where: { id: jobId }, include: { runs: { select: { id: true, index: true } } } });
  if (!job) throw new LogRequestError(`No job with id ${jobId}.`);
  const minLevel = options.level ?? 'debug';
  const minIndex = LEVELS.indexOf(minLevel as (typeof LEVELS)[number]);
  if (minIndex < 0) throw new LogRequestError(`level must be one of ${LEVELS.join(', ')}; got "${minLevel}".`);
  let runId: string | undefined;
  if (options.run) {
    const position = Number(options.run);
    const run = job.runs.find((candidate) => candidate.index + 1 === position);
    if (!run) throw new LogRequestError(`run must be a dataset position from 1 to ${job.runs.length}; got "${options.run}".`);
    runId = run.id;
  }
  const positions = new Map(job.runs.map((run) => [run.id, run.index + 1]));
  const levels = LEVELS.slice(minIndex) as string[];
  let afterSeq = 0;
  for (;;) {
    const rows = await prisma.event.findMany({
      where: { jobId, seq: { gt: afterSeq }, level: { in: levels }, ...(runId ? { runId } : {}) },
      orderBy: { seq: 'asc' },
      take: PAGE,
      select: { seq: true, ts: true, level: true, message: true, runId: true, stage: true },
    });
    for (const row of rows) {
      const scope = row.runId ? `dataset ${positions.get(row.runId) ?? '?'}` : row.stage;
      yield `${row.ts.toISOString()} ${(row.level ?? 'info').toUpperCase().padEnd(7)} [${scope}] ${row.message ?? ''}\n`;
      afterSeq = row.seq;
    }
    if (rows.length < PAGE) return;
  }
}
