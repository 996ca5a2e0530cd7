import path from 'node:path';
import { z } from 'zod';

/** Thrown when an environment variable has a value Tunedeck cannot use. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const gpuPricesSchema = z.record(z.string().min(1), z.number().positive());

/** Hourly USD prices per GPU, from Modal's public pricing page (checked 2026-12); override with TUNEDECK_GPU_PRICES. */
export const DEFAULT_GPU_PRICES: Record<string, number> = {
  T4: 0.59,
  L4: 0.8,
  A10G: 1.1,
  L40S: 1.95,
  'A100-40GB': 2.1,
  'A100-80GB': 2.5,
  H100: 3.95,
  H200: 4.54,
  B200: 6.25,
};

/**
 * Environment variables read at start-up. `.env.example` lists the same names
 * with their defaults; keep the two in step.
 */
const envSchema = z.object({
  TUNEDECK_HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce
    .number({ error: 'must be a whole number from 0 to 65535' })
    .int('must be a whole number from 0 to 65535')
    .min(0, 'must be a whole number from 0 to 65535')
    .max(65535, 'must be a whole number from 0 to 65535')
    .default(4000),
  TUNEDECK_DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  TUNEDECK_EXECUTOR: z.enum(['local', 'modal']).default('local'),
  MODAL_APP_NAME: z.string().min(1).default('tunedeck'),
  MODAL_EVENTS_QUEUE: z.string().min(1).default('tunedeck-events'),
  TUNEDECK_PYTHON: z.string().min(1).optional(),
  TUNEDECK_MAX_RUNNING_JOBS: z.coerce.number().int().min(1).max(100).default(1),
  TUNEDECK_HEARTBEAT_TIMEOUT_S: z.coerce.number().int().min(5).max(3600).default(120),
  TUNEDECK_RECONCILE_INTERVAL_S: z.coerce.number().min(0.05).max(600).default(10),
  TUNEDECK_MAX_STAGE_RESTARTS: z.coerce.number().int().min(0).max(20).default(2),
  TUNEDECK_GPU_PRICES: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object such as {"H100": 3.95}' });
        return z.NEVER;
      }
    })
    .pipe(gpuPricesSchema)
    .optional(),
  TUNEDECK_TOKENS_PER_SECOND: z.coerce.number().positive().default(2400),
  TUNEDECK_ALLOW_INSECURE: booleanFromEnv.default(false),
  TUNEDECK_CORS_ORIGINS: z.string().optional(),
  TUNEDECK_MAX_QUERY_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  TUNEDECK_MAX_QUERY_COST: z.coerce.number().int().min(100).default(500_000),
  TUNEDECK_MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(15),
  TUNEDECK_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(10),
  TUNEDECK_MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(2000),
  TUNEDECK_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(100_000_000).default(262_144),
  TUNEDECK_MUTATIONS_PER_MINUTE: z.coerce.number().min(1).max(100_000).default(60),
  TUNEDECK_MUTATION_BURST: z.coerce.number().int().min(1).max(100_000).default(60),
  TUNEDECK_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(10_000).default(50),
  NODE_ENV: z.string().optional(),
});

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  logLevel: string;
  logFormat: 'pretty' | 'json';
  executor: 'local' | 'modal';
  modalAppName: string;
  modalEventsQueue: string;
  /** Python interpreter that runs the pipeline for the local executor. */
  python: string;
  /** Folder of the Python pipeline package (`modal/`). */
  pipelineDir: string;
  maxRunningJobs: number;
  heartbeatTimeoutSeconds: number;
  reconcileIntervalSeconds: number;
  maxStageRestarts: number;
  gpuPrices: Record<string, number>;
  /** Assumed training throughput for estimates, in tokens per second on an H100. */
  tokensPerSecond: number;
  allowInsecure: boolean;
  corsOrigins: string[];
  limits: RequestLimits;
}

/** Per-request and per-key limits; `.env.example` gives each default and its reason. */
export interface RequestLimits {
  /** Deepest selection nesting; fragment spreads count as a level. */
  maxDepth: number;
  /** GraphQL Armor's cost: objects 2, scalars 1, times 1.5 per level, times `first`/`last` (variables included). */
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexer tokens in one document. */
  maxTokens: number;
  /** HTTP request body, in bytes. */
  maxBodyBytes: number;
  /** Sustained mutation rate per key (per server while open), in root mutation fields per minute. */
  mutationsPerMinute: number;
  /** Mutations a key may send at once before the per-minute rate applies. */
  mutationBurst: number;
  /** Live subscriptions per key, or per connection while the server runs open. */
  maxSubscriptions: number;
}

const projectRoot = path.resolve(import.meta.dirname, '..');

/** Reads and validates the configuration; throws ConfigError naming every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = env[name];
      return `  ${name}=${JSON.stringify(value ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nSee .env.example for every variable and its default.`);
  }
  const values = parsed.data;
  const pipelineDir = path.join(projectRoot, 'modal');
  return {
    host: values.TUNEDECK_HOST,
    port: values.PORT,
    dataDir: path.resolve(projectRoot, values.TUNEDECK_DATA_DIR),
    databaseUrl: values.DATABASE_URL,
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT ?? (values.NODE_ENV === 'production' || !process.stdout.isTTY ? 'json' : 'pretty'),
    executor: values.TUNEDECK_EXECUTOR,
    modalAppName: values.MODAL_APP_NAME,
    modalEventsQueue: values.MODAL_EVENTS_QUEUE,
    python: values.TUNEDECK_PYTHON ?? path.join(pipelineDir, '.venv', 'bin', 'python'),
    pipelineDir,
    maxRunningJobs: values.TUNEDECK_MAX_RUNNING_JOBS,
    heartbeatTimeoutSeconds: values.TUNEDECK_HEARTBEAT_TIMEOUT_S,
    reconcileIntervalSeconds: values.TUNEDECK_RECONCILE_INTERVAL_S,
    maxStageRestarts: values.TUNEDECK_MAX_STAGE_RESTARTS,
    gpuPrices: { ...DEFAULT_GPU_PRICES, ...(values.TUNEDECK_GPU_PRICES ?? {}) },
    tokensPerSecond: values.TUNEDECK_TOKENS_PER_SECOND,
    allowInsecure: values.TUNEDECK_ALLOW_INSECURE,
    corsOrigins: (values.TUNEDECK_CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    limits: {
      maxDepth: values.TUNEDECK_MAX_QUERY_DEPTH,
      maxCost: values.TUNEDECK_MAX_QUERY_COST,
      maxAliases: values.TUNEDECK_MAX_ALIASES,
      maxDirectives: values.TUNEDECK_MAX_DIRECTIVES,
      maxTokens: values.TUNEDECK_MAX_TOKENS,
      maxBodyBytes: values.TUNEDECK_MAX_BODY_BYTES,
      mutationsPerMinute: values.TUNEDECK_MUTATIONS_PER_MINUTE,
      mutationBurst: values.TUNEDECK_MUTATION_BURST,
      maxSubscriptions: values.TUNEDECK_MAX_SUBSCRIPTIONS,
    },
  };
}
