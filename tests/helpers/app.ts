import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApp, type App, type AppOptions } from '../../server/app.js';
import { loadConfig, type Config } from '../../server/config.js';

export interface TestApp {
  app: App;
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  dataDir: string;
  /** Log lines the server wrote, parsed from JSON. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * Starts a real server on 127.0.0.1 and a free port with its own data folder.
 * The database is PGlite in that folder, or PostgreSQL when
 * TUNEDECK_TEST_DATABASE_URL is set (each call then gets a fresh schema-less
 * database created on that server).
 */
export async function startTestApp(
  options: { env?: Record<string, string>; executors?: AppOptions['executors']; pollIntervalMs?: number; dataDir?: string; keepData?: boolean; orchestrate?: boolean } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'tunedeck-test-')));
  const databaseUrl = options.env?.DATABASE_URL ?? (await testDatabaseUrl());
  const config: Config = loadConfig({
    TUNEDECK_DATA_DIR: dataDir,
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    TUNEDECK_HOST: '127.0.0.1',
    PORT: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...options.env,
  });
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const app = await createApp({ config, logger, executors: options.executors, pollIntervalMs: options.pollIntervalMs ?? 100, pipelineEnv: pipelineEnv(), orchestrate: options.orchestrate });
  const { url } = await app.start(0, '127.0.0.1');
  return {
    app,
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `${url.replace('http', 'ws')}/graphql`,
    dataDir,
    logs,
    async stop() {
      await app.stop();
      if (!options.keepData && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Environment for pipeline processes in tests: one shared tiny-model cache so it is built once. */
export function pipelineEnv(): NodeJS.ProcessEnv {
  return { TUNEDECK_MODEL_CACHE: process.env.TUNEDECK_MODEL_CACHE ?? path.join(os.tmpdir(), 'tunedeck-model-cache') };
}

let databaseCounter = 0;

/** With TUNEDECK_TEST_DATABASE_URL set, creates a new database on that server and returns its URL. */
export async function testDatabaseUrl(): Promise<string | undefined> {
  const base = process.env.TUNEDECK_TEST_DATABASE_URL;
  if (!base) return undefined;
  const { default: pg } = await import('pg');
  const name = `tunedeck_test_${process.pid}_${Date.now()}_${databaseCounter++}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** POSTs a GraphQL operation and returns the parsed body. */
export async function gql<T = any>(graphqlUrl: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }> {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as never;
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, options: { timeoutMs?: number; intervalMs?: number; message?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${options.message ?? 'condition'}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
