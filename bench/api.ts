import { globalId } from '../schema/ids.js';
import { gql, startTestApp, type TestApp } from '../tests/helpers/app.js';
import { JOB_DETAIL } from '../tests/helpers/jobs.js';
import { BENCH_SERVER_ENV, median, percentile, round, type BenchResult } from './common.js';
import { launchJob } from './ingest.js';

const TARGET_P99_MS = 10;
const METRICS_PAGE = 1_000;

export interface ApiOptions {
  jobs: number;
  pointsPerRun: number;
  requestsPerRound: number;
  rounds: number;
}

// The dashboard's job-detail query plus the first page of the loss chart's metrics.
const METRICS_SELECTION = `metrics(first: ${METRICS_PAGE}) { edges { node { runId split step loss } } pageInfo { hasNextPage endCursor } }`;
const LATEST_METRICS = 'latestMetrics { step trainLoss evalLoss learningRate }';

export function jobDetailWithMetrics(): string {
  if (!JOB_DETAIL.includes(LATEST_METRICS)) throw new Error(`JOB_DETAIL no longer selects "${LATEST_METRICS}"; update bench/api.ts`);
  return JOB_DETAIL.replace(LATEST_METRICS, `${LATEST_METRICS}\n      ${METRICS_SELECTION}`);
}

async function seed(server: TestApp, options: ApiOptions): Promise<string[]> {
  const prisma = server.app.services.prisma;
  const jobIds: string[] = [];
  for (let index = 0; index < options.jobs; index++) {
    const { jobId } = await launchJob(server);
    jobIds.push(jobId);
  }
  const runs = await prisma.datasetRun.findMany({ where: { jobId: { in: jobIds } }, select: { id: true, jobId: true } });
  const rows = runs.flatMap((run) =>
    Array.from({ length: options.pointsPerRun }, (_, step) => ({
      jobId: run.jobId,
      runId: run.id,
      split: step % 10 === 9 ? 'eval' : 'train',
      step: step + 1,
      loss: 3 / Math.sqrt(step + 1),
      learningRate: 0.0002,
      gradNorm: 1.1,
      tokensPerSecond: 5000,
    })),
  );
  for (let offset = 0; offset < rows.length; offset += 5_000) {
    await prisma.metricPoint.createMany({ data: rows.slice(offset, offset + 5_000) });
  }
  return jobIds;
}

/** Runs the Prisma calls that the query's resolvers make, without GraphQL and HTTP around them. */
async function bareQueries(server: TestApp, jobId: string): Promise<void> {
  const prisma = server.app.services.prisma;
  await prisma.job.findUnique({
    where: { id: jobId },
    include: {
      runs: { orderBy: { index: 'asc' } },
      model: true,
      metrics: { take: METRICS_PAGE + 1, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    },
  });
  await Promise.all([
    prisma.metricPoint.findFirst({ where: { jobId, split: 'train' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    prisma.metricPoint.findFirst({ where: { jobId, split: 'eval' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  ]);
}

export async function benchApi(options: ApiOptions): Promise<BenchResult> {
  const server = await startTestApp({ orchestrate: false, env: BENCH_SERVER_ENV });
  const query = jobDetailWithMetrics();
  const graphqlP50: number[] = [];
  const graphqlP99: number[] = [];
  const bareP50: number[] = [];
  const bareP99: number[] = [];
  try {
    const jobIds = await seed(server, options);
    // Seeding blocks the event loop for seconds, so the server's keep-alive timer (5 s)
    // may close an idle socket just as fetch reuses it (ECONNRESET). Let it close first.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const pick = (index: number) => jobIds[(index * 37) % jobIds.length]!;

    const check = await gql(server.graphqlUrl, query, { id: globalId('Job', pick(0)) });
    const points = check.data?.job?.metrics?.edges?.length;
    if (check.errors || points !== Math.min(METRICS_PAGE, 2 * options.pointsPerRun)) {
      throw new Error(`job-detail query failed or returned ${points} metric points: ${JSON.stringify(check.errors ?? check).slice(0, 300)}`);
    }
    for (let index = 0; index < 20; index++) {
      await gql(server.graphqlUrl, query, { id: globalId('Job', pick(index)) });
      await bareQueries(server, pick(index));
    }

    for (let roundIndex = 0; roundIndex < options.rounds; roundIndex++) {
      const graphql: number[] = [];
      const bare: number[] = [];
      for (let index = 0; index < options.requestsPerRound; index++) {
        const jobId = pick(index + roundIndex);
        let started = performance.now();
        await gql(server.graphqlUrl, query, { id: globalId('Job', jobId) });
        graphql.push(performance.now() - started);
        started = performance.now();
        await bareQueries(server, jobId);
        bare.push(performance.now() - started);
      }
      graphqlP50.push(percentile(graphql, 50));
      graphqlP99.push(percentile(graphql, 99));
      bareP50.push(percentile(bare, 50));
      bareP99.push(percentile(bare, 99));
    }
  } finally {
    await server.stop();
  }

  const p99 = median(graphqlP99);
  return {
    title: 'API latency',
    command: 'npm run bench -- api',
    measurements: [
      {
        name: 'job-detail query with 1,000 metric points, p50',
        value: round(median(graphqlP50), 2),
        unit: 'ms',
        baseline: { name: 'bare Prisma queries p50', value: round(median(bareP50), 2) },
        runs: graphqlP50.map((value) => round(value, 2)),
      },
      {
        name: 'job-detail query with 1,000 metric points, p99',
        value: round(p99, 2),
        unit: 'ms',
        baseline: { name: 'bare Prisma queries p99', value: round(median(bareP99), 2) },
        ratio: round(median(bareP99) / p99, 3),
        target: `<= ${TARGET_P99_MS} ms`,
        met: p99 <= TARGET_P99_MS,
        runs: graphqlP99.map((value) => round(value, 2)),
      },
    ],
    notes: [
      `PGlite on disk with ${options.jobs} jobs x 2 runs x ${options.pointsPerRun.toLocaleString('en-US')} metric points; ${options.rounds} rounds of ${options.requestsPerRound} sequential POST requests over HTTP on 127.0.0.1, each followed by the bare Prisma calls for the same job.`,
      'The bare baseline is one findUnique with runs, model and 1,001 metric points included, then the two findFirst calls of latestMetrics, as the resolvers issue them.',
    ],
  };
}
