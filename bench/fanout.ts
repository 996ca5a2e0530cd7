import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Client } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { ingestEvents } from '../server/jobs/ingest.js';
import { globalId } from '../schema/ids.js';
import { startTestApp, waitFor, type TestApp } from '../tests/helpers/app.js';
import { wsClient } from '../tests/helpers/ws.js';
import { BENCH_SERVER_ENV, median, percentile, pipelineEvents, round, type BenchResult, type EventKind } from './common.js';
import { launchJob } from './ingest.js';

const SUBSCRIPTION = 'subscription ($id: ID!, $after: Int) { jobEvents(jobId: $id, afterSeq: $after) { seq type data } }';
const TARGET_DELIVERIES_PER_SECOND = 100_000;
const TARGET_P99_MS = 50;
// Heartbeats and logs only, so ingestion itself stays cheap and the figure is the fan-out.
const FANOUT_EVENTS: EventKind[] = ['log', 'heartbeat'];

/** Schedule of one round: `batches` calls of `batchSize` events, `intervalMs` apart. */
export interface Pacing {
  /** Events per ingestEvents call; every call publishes once. */
  batchSize: number;
  batches: number;
  /** Pause after each call, in milliseconds; 0 sends the next batch at once. */
  intervalMs: number;
}

export interface FanoutOptions {
  subscribers: number;
  /** Back-to-back batches, for deliveries per second. */
  burst: Pacing;
  /** Batches at a training loop's pace, for latency. */
  paced: Pacing;
  rounds: number;
  /** Give up on a round after this many milliseconds. */
  timeoutMs: number;
}

interface RoundResult {
  deliveriesPerSecond: number;
  latenciesMs: number[];
  missing: number;
}

/** Serialized graphql-ws `next` messages, captured from one subscriber, to replay raw. */
type Payloads = string[];

async function subscriptionRound(server: TestApp, clients: Client[], options: Pacing, timeoutMs: number, round: number, capture: Payloads | null): Promise<RoundResult> {
  const { jobId, runId } = await launchJob(server);
  const services = server.app.services;
  const expected = options.batchSize * options.batches;
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let received = 0;
  let lastReceivedAt = 0;
  const disposers: (() => void)[] = [];
  const listenersBefore = services.eventFeeds.listenerCount(jobId);

  for (const [index, client] of clients.entries()) {
    disposers.push(
      client.subscribe<{ jobEvents: { seq: number } }>(
        { query: SUBSCRIPTION, variables: { id: globalId('Job', jobId), after: 0 } },
        {
          next: (result) => {
            const seq = result.data?.jobEvents.seq;
            // Events stored before the round (none are expected) have no send time.
            if (seq === undefined || !sentAt.has(seq)) return;
            const now = performance.now();
            latencies.push(now - sentAt.get(seq)!);
            received += 1;
            lastReceivedAt = now;
            if (capture && index === 0) capture.push(JSON.stringify({ id: '1', type: 'next', payload: result }));
          },
          error: () => {},
          complete: () => {},
        },
      ),
    );
  }
  await waitFor(() => services.eventFeeds.listenerCount(jobId) >= listenersBefore + clients.length, {
    timeoutMs: 60_000,
    message: `${clients.length} jobEvents subscriptions`,
  });

  const events = pipelineEvents(jobId, runId, `fanout${round}`, expected, FANOUT_EVENTS);
  const started = performance.now();
  let seq = (await services.prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { lastSeq: true } })).lastSeq;
  for (let batch = 0; batch < options.batches; batch++) {
    const slice = events.slice(batch * options.batchSize, (batch + 1) * options.batchSize);
    const now = performance.now();
    for (let offset = 0; offset < slice.length; offset++) sentAt.set(seq + offset + 1, now);
    seq += slice.length;
    await ingestEvents(services, jobId, slice);
    if (options.intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  const total = expected * clients.length;
  await waitFor(() => received >= total, { timeoutMs, intervalMs: 20, message: 'deliveries' }).catch(() => undefined);
  for (const dispose of disposers) dispose();
  return { deliveriesPerSecond: received / ((lastReceivedAt - started) / 1000), latenciesMs: latencies, missing: total - received };
}

/** Sends the same bytes from a bare `ws` server to as many bare `ws` clients, for the baseline. */
async function rawRound(subscribers: number, payloads: Payloads, options: Pacing, timeoutMs: number): Promise<RoundResult> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const sentAt: number[] = [];
  const latencies: number[] = [];
  let received = 0;
  let lastReceivedAt = 0;
  const sockets: WebSocket[] = [];
  for (let index = 0; index < subscribers; index++) {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    socket.on('message', (data) => {
      // Parse as the graphql-ws client does, so both sides do the same work per message.
      const message = JSON.parse(data.toString()) as { payload: { data: { jobEvents: { seq: number } } } };
      const now = performance.now();
      latencies.push(now - sentAt[message.payload.data.jobEvents.seq]!);
      received += 1;
      lastReceivedAt = now;
    });
    sockets.push(socket);
  }
  await Promise.all(sockets.map((socket) => once(socket, 'open')));

  const started = performance.now();
  for (let batch = 0; batch * options.batchSize < payloads.length; batch++) {
    const slice = payloads.slice(batch * options.batchSize, (batch + 1) * options.batchSize);
    const now = performance.now();
    for (const payload of slice) {
      sentAt[(JSON.parse(payload) as { payload: { data: { jobEvents: { seq: number } } } }).payload.data.jobEvents.seq] = now;
      for (const client of server.clients) client.send(payload);
    }
    if (options.intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  const total = payloads.length * subscribers;
  await waitFor(() => received >= total, { timeoutMs, intervalMs: 20, message: 'raw deliveries' }).catch(() => undefined);
  for (const socket of sockets) socket.terminate();
  server.close();
  return { deliveriesPerSecond: received / ((lastReceivedAt - started) / 1000), latenciesMs: latencies, missing: total - received };
}

export async function benchFanout(options: FanoutOptions): Promise<BenchResult> {
  const describe = (pacing: Pacing) => `${pacing.batches} calls of ingestEvents with ${pacing.batchSize} log and heartbeat events each, ${pacing.intervalMs} ms apart`;
  const result: BenchResult = {
    title: 'Subscription fan-out',
    command: 'npm run bench -- fanout',
    measurements: [],
    notes: [
      `${options.subscribers} graphql-ws clients, one WebSocket each, subscribe to jobEvents of one job on PGlite. Deliveries per second come from bursts of ${describe(options.burst)}. Latency comes from ${describe(options.paced)}, as a training loop reports. ${options.rounds} rounds of each.`,
      'Latency runs from the start of the ingestEvents call to the client callback. Server and clients share one Node.js process and the same 2 cores, so client parsing counts against the server.',
      'The baseline is a bare ws server that sends the captured graphql-ws `next` messages, byte for byte, to as many bare ws clients, which parse each one, with the same batches and pauses.',
    ],
  };

  const server = await startTestApp({ orchestrate: false, env: BENCH_SERVER_ENV });
  const clients = Array.from({ length: options.subscribers }, () => wsClient(server.wsUrl));
  const captured: Payloads = [];
  const burst: RoundResult[] = [];
  const paced: RoundResult[] = [];
  try {
    for (let index = 0; index < options.rounds; index++) {
      burst.push(await subscriptionRound(server, clients, options.burst, options.timeoutMs, 2 * index, index === 0 ? captured : null));
      paced.push(await subscriptionRound(server, clients, options.paced, options.timeoutMs, 2 * index + 1, null));
    }
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await server.stop();
  }
  const rawBurst: RoundResult[] = [];
  const rawPaced: RoundResult[] = [];
  const count = (pacing: Pacing) => pacing.batchSize * pacing.batches;
  for (let index = 0; index < options.rounds; index++) {
    rawBurst.push(await rawRound(options.subscribers, captured.slice(0, count(options.burst)), options.burst, options.timeoutMs));
    rawPaced.push(await rawRound(options.subscribers, captured.slice(0, count(options.paced)), options.paced, options.timeoutMs));
  }

  const rate = (list: RoundResult[]) => median(list.map((item) => item.deliveriesPerSecond));
  const latency = (list: RoundResult[], p: number) => median(list.map((item) => percentile(item.latenciesMs, p)));
  const missing = (list: RoundResult[]) => list.reduce((sum, item) => sum + item.missing, 0);
  const lost = missing([...burst, ...paced]);
  const rawLost = missing([...rawBurst, ...rawPaced]);
  if (lost > 0) result.notes.push(`${lost.toLocaleString('en-US')} graphql-ws deliveries had not arrived ${options.timeoutMs / 1000} s after a round started; they are left out of rates and percentiles.`);
  if (rawLost > 0) result.notes.push(`${rawLost.toLocaleString('en-US')} raw deliveries had not arrived ${options.timeoutMs / 1000} s after a round started; they are left out.`);

  const p99 = latency(paced, 99);
  result.measurements.push(
    {
      name: 'deliveries to graphql-ws subscribers (burst)',
      value: round(rate(burst), 0),
      unit: 'deliveries/s',
      baseline: { name: 'raw ws broadcast of the same bytes', value: round(rate(rawBurst), 0) },
      ratio: round(rate(burst) / rate(rawBurst), 3),
      target: `>= ${TARGET_DELIVERIES_PER_SECOND.toLocaleString('en-US')} deliveries/s`,
      met: rate(burst) >= TARGET_DELIVERIES_PER_SECOND,
      runs: burst.map((item) => round(item.deliveriesPerSecond, 0)),
    },
    {
      name: 'p50 latency, ingestion to client (paced)',
      value: round(latency(paced, 50), 1),
      unit: 'ms',
      baseline: { name: 'raw ws broadcast p50', value: round(latency(rawPaced, 50), 1) },
      runs: paced.map((item) => round(percentile(item.latenciesMs, 50), 1)),
    },
    {
      name: 'p99 latency, ingestion to client (paced)',
      value: round(p99, 1),
      unit: 'ms',
      baseline: { name: 'raw ws broadcast p99', value: round(latency(rawPaced, 99), 1) },
      ratio: round(latency(rawPaced, 99) / p99, 3),
      target: `<= ${TARGET_P99_MS} ms`,
      met: p99 <= TARGET_P99_MS,
      runs: paced.map((item) => round(percentile(item.latenciesMs, 99), 1)),
    },
  );
  return result;
}
