import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { ingestEvents } from '../server/jobs/ingest.js';
import { databaseId } from '../schema/ids.js';
import { startTestApp, type TestApp } from '../tests/helpers/app.js';
import { LAUNCH, tinyJobInput } from '../tests/helpers/jobs.js';
import { BENCH_SERVER_ENV, createDatabase, median, pipelineEvents, round, startPostgres, TRAINING_STEP_EVENTS, type BenchResult, type EventKind, type Measurement } from './common.js';

/** Events per ingestEvents call: what one poll of a busy run's event file returns. */
export const BATCH_SIZE = 1_000;
const TARGET_EVENTS_PER_SECOND = 50_000;
const TARGET_RATIO = 0.5;

export interface IngestOptions {
  eventsPerRound: number;
  rounds: number;
}

interface LaunchedJob {
  jobId: string;
  runId: string;
}

/**
 * POSTs a GraphQL operation on a new connection. Benchmarks block the event loop for
 * seconds, so the server's keep-alive timer can close an idle socket just as fetch reuses
 * it (ECONNRESET). A mutation must not be retried blindly, so it gets its own socket.
 */
function postOnNewConnection(url: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(new Error(`invalid JSON from ${url} (HTTP ${response.statusCode}): ${(error as Error).message}`));
        }
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

export async function launchJob(server: TestApp): Promise<LaunchedJob> {
  const launched = await postOnNewConnection(server.graphqlUrl, LAUNCH, { input: tinyJobInput() });
  const job = launched.data?.launchJob?.data?.job;
  if (!job) throw new Error(`launchJob failed: ${JSON.stringify(launched).slice(0, 300)}`);
  return { jobId: databaseId(job.id, 'Job'), runId: databaseId(job.runs[0].id, 'DatasetRun') };
}

// The Event rows ingestEvents would write, inserted with one statement per batch and
// nothing else: no duplicate check, no sequence update, no effects on runs or metrics.
const RAW_INSERT = `
  INSERT INTO "Event" ("jobId", "seq", "runId", "stage", "attempt", "stream", "streamSeq", "type", "level", "message", "data", "ts")
  SELECT "jobId", "seq", "runId", "stage", "attempt", "stream", "streamSeq", "type", "level", "message", "data", "ts"
  FROM jsonb_to_recordset($1::jsonb) AS r("jobId" text, "seq" int, "runId" text, "stage" text, "attempt" int, "stream" text,
    "streamSeq" int, "type" text, "level" text, "message" text, "data" jsonb, "ts" timestamp(3))`;

function rawRows(jobId: string, events: Record<string, unknown>[], firstSeq: number) {
  return events.map((event, offset) => {
    const data = event.data as Record<string, unknown>;
    const isLog = event.type === 'log';
    return {
      jobId,
      seq: firstSeq + offset,
      runId: event.run_id,
      stage: event.stage,
      attempt: event.attempt,
      stream: event.stream,
      streamSeq: event.seq,
      type: event.type,
      level: isLog ? data.level : null,
      message: isLog ? data.message : null,
      data,
      ts: event.ts,
    };
  });
}

async function measureDatabase(server: TestApp, options: IngestOptions, kinds: EventKind[] = TRAINING_STEP_EVENTS): Promise<{ ingest: number[]; raw: number[] }> {
  const services = server.app.services;
  const target = await launchJob(server);
  const rawTarget = await launchJob(server);
  const ingest: number[] = [];
  const raw: number[] = [];

  // Warm-up: compiles queries and fills caches on both paths.
  await ingestEvents(services, target.jobId, pipelineEvents(target.jobId, target.runId, 'warmup', BATCH_SIZE));
  await services.prisma.$executeRawUnsafe(RAW_INSERT, JSON.stringify(rawRows(rawTarget.jobId, pipelineEvents(rawTarget.jobId, rawTarget.runId, 'warmup', BATCH_SIZE), 1)));
  let rawSeq = BATCH_SIZE + 1;

  for (let round = 0; round < options.rounds; round++) {
    // Each round is a fresh stream of the same job, as a restarted container sends.
    const stream = randomUUID().replace(/-/g, '');
    const events = pipelineEvents(target.jobId, target.runId, stream, options.eventsPerRound, kinds);
    let started = performance.now();
    for (let offset = 0; offset < events.length; offset += BATCH_SIZE) {
      const result = await ingestEvents(services, target.jobId, events.slice(offset, offset + BATCH_SIZE));
      if (result.stored !== Math.min(BATCH_SIZE, events.length - offset)) {
        throw new Error(`ingestEvents stored ${result.stored} of a batch; rejected ${result.rejected}, duplicates ${result.duplicates}`);
      }
    }
    ingest.push(events.length / ((performance.now() - started) / 1000));

    const rows = rawRows(rawTarget.jobId, pipelineEvents(rawTarget.jobId, rawTarget.runId, stream, options.eventsPerRound, kinds), rawSeq);
    rawSeq += rows.length;
    started = performance.now();
    for (let offset = 0; offset < rows.length; offset += BATCH_SIZE) {
      await services.prisma.$executeRawUnsafe(RAW_INSERT, JSON.stringify(rows.slice(offset, offset + BATCH_SIZE)));
    }
    raw.push(rows.length / ((performance.now() - started) / 1000));
  }
  return { ingest, raw };
}

function measurement(label: string, runs: { ingest: number[]; raw: number[] }): Measurement {
  const ingest = median(runs.ingest);
  const raw = median(runs.raw);
  const ratio = ingest / raw;
  return {
    name: `ingestEvents on ${label}`,
    value: round(ingest, 0),
    unit: 'events/s',
    baseline: { name: 'raw batched INSERT of the same rows', value: round(raw, 0) },
    ratio: round(ratio, 3),
    target: `>= ${TARGET_EVENTS_PER_SECOND.toLocaleString('en-US')} events/s and >= ${TARGET_RATIO} of raw`,
    met: ingest >= TARGET_EVENTS_PER_SECOND && ratio >= TARGET_RATIO,
    runs: runs.ingest.map((value) => round(value, 0)),
  };
}

// Log and heartbeat events need no statement of their own, so this mix shows what the
// per-event statements for progress and metric events cost.
const NO_EFFECT_EVENTS: EventKind[] = ['log', 'heartbeat'];

async function measureBoth(server: TestApp, label: string, options: IngestOptions): Promise<Measurement[]> {
  const mixed = measurement(label, await measureDatabase(server, options));
  const cheap = measurement(`${label}, log and heartbeat events only`, await measureDatabase(server, { ...options, rounds: 1 }, NO_EFFECT_EVENTS));
  return [mixed, cheap];
}

export async function benchIngest(options: IngestOptions): Promise<BenchResult> {
  const result: BenchResult = {
    title: 'Event ingestion',
    command: 'npm run bench -- ingest',
    measurements: [],
    notes: [
      `${options.rounds} rounds of ${options.eventsPerRound.toLocaleString('en-US')} events each, in calls of ${BATCH_SIZE} events; a step sends progress, metric, log and heartbeat events in equal shares.`,
      'Each call of ingestEvents runs one transaction: a duplicate check, the sequence update, a createMany of the events, one update per run for its newest progress, and a lookup plus one createMany for the metric points.',
    ],
  };

  const pglite = await startTestApp({ orchestrate: false, env: BENCH_SERVER_ENV });
  try {
    result.measurements.push(...(await measureBoth(pglite, 'PGlite (embedded, on disk)', options)));
  } finally {
    await pglite.stop();
  }

  const cluster = startPostgres();
  if ('error' in cluster) {
    result.notes.push(`PostgreSQL skipped: ${cluster.error}`);
    return result;
  }
  try {
    const url = await createDatabase(cluster.url, 'tunedeck_bench_ingest');
    const server = await startTestApp({ orchestrate: false, env: { ...BENCH_SERVER_ENV, DATABASE_URL: url } });
    try {
      result.measurements.push(...(await measureBoth(server, `PostgreSQL ${cluster.version} (local, port 55440)`, options)));
    } finally {
      await server.stop();
    }
  } finally {
    cluster.stop();
  }
  return result;
}
