import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { AppServices, Context } from '../schema/context.js';
import { AccessControl, httpConnectionId, principalOf, secretFromAuthorization, WS_FORBIDDEN, WS_UNAUTHORIZED, type Principal } from './auth/index.js';
import { maskUnexpectedError } from './auth/plugins.js';
import { databaseId } from '../schema/ids.js';
import { schema } from '../schema/index.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/index.js';
import { LocalExecutor } from './executors/local.js';
import { ModalExecutor, type ModalApi } from './executors/modal.js';
import type { Executor } from './executors/types.js';
import { ModalRuntime } from './deployments/modal.js';
import { LocalRuntime, type DeploymentRuntime } from './deployments/runtime.js';
import { DeploymentService } from './deployments/service.js';
import { EventFeeds } from './jobs/feed.js';
import { Orchestrator } from './jobs/orchestrator.js';
import { JobService } from './jobs/service.js';
import type { Logger } from './logger.js';
import { jobLogLines, LogRequestError } from './logs.js';
import { PubSub } from './pubsub.js';

interface EnvelopedRunners {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

export const GRAPHQL_PATH = '/graphql';
/** Server-side ping interval for WebSocket clients; proxies often drop connections idle for 60 s. */
const WS_PING_MS = 20_000;
const WEB_DIST = path.resolve(import.meta.dirname, '..', 'web', 'dist');

export interface AppOptions {
  config: Config;
  logger: Logger;
  /** Replaces the executors built from config (tests pass fakes for Modal here). */
  executors?: Partial<Record<'LOCAL' | 'MODAL', Executor>>;
  /** Milliseconds between orchestrator passes. */
  pollIntervalMs?: number;
  /** Extra environment for local pipeline processes. */
  pipelineEnv?: NodeJS.ProcessEnv;
  /** Replaces the deployment runtimes built from config. */
  runtimes?: Partial<Record<'LOCAL' | 'MODAL', DeploymentRuntime>>;
  /** Set false to serve the API without driving jobs (tests of the API layer alone). */
  orchestrate?: boolean;
}

export interface App {
  services: AppServices;
  db: Database;
  yoga: YogaServerInstance<Record<string, never>, Context>;
  orchestrator: Orchestrator;
  server: Server;
  /** Listens on the port (0 picks a free one) and resolves with the bound address. */
  start(port?: number, host?: string): Promise<{ port: number; host: string; url: string }>;
  /** Stops accepting, closes sockets and subscriptions, stops the orchestrator and closes the database. */
  stop(): Promise<void>;
}

/** Builds everything the server needs without listening; `start` listens. */
export async function createApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  if (db.appliedMigrations.length > 0) logger.info({ migrations: db.appliedMigrations }, 'database migrations applied');
  logger.info({ database: db.kind, location: db.location }, 'database open');

  const pubsub = new PubSub();
  // One Modal client for jobs and deployments, created on first use; a failed attempt is retried on the next use.
  let modalClient: Promise<ModalApi> | null = null;
  const connectModal = (): Promise<ModalApi> => {
    modalClient ??= import('modal')
      .then(({ ModalClient }) => new ModalClient() as never)
      .catch((error: unknown) => {
        modalClient = null;
        throw error;
      });
    return modalClient;
  };
  const executors: Partial<Record<'LOCAL' | 'MODAL', Executor>> = options.executors ?? {
    LOCAL: new LocalExecutor({ python: config.python, pipelineDir: config.pipelineDir, dataDir: config.dataDir, logger, env: options.pipelineEnv }),
    MODAL: new ModalExecutor({ appName: config.modalAppName, eventsQueue: config.modalEventsQueue, logger, connect: connectModal }),
  };
  const orchestrator = new Orchestrator({
    prisma: db.prisma,
    pubsub,
    logger,
    executors,
    maxRunningJobs: config.maxRunningJobs,
    heartbeatTimeoutSeconds: config.heartbeatTimeoutSeconds,
    maxStageRestarts: config.maxStageRestarts,
    pollIntervalMs: options.pollIntervalMs ?? 500,
  });
  const jobs = new JobService({
    prisma: db.prisma,
    pubsub,
    logger,
    executors,
    orchestrator,
    defaultExecutor: config.executor === 'modal' ? 'MODAL' : 'LOCAL',
    gpuPrices: config.gpuPrices,
    tokensPerSecond: config.tokensPerSecond,
  });
  const deployments = new DeploymentService({
    prisma: db.prisma,
    pubsub,
    logger,
    dataDir: config.dataDir,
    pollIntervalMs: options.pollIntervalMs ?? 500,
    runtimes: options.runtimes ?? {
      LOCAL: new LocalRuntime({ python: config.python, pipelineDir: config.pipelineDir, dataDir: config.dataDir, logger, env: options.pipelineEnv }),
      MODAL: new ModalRuntime({ appName: config.modalAppName, eventsQueue: config.modalEventsQueue, logger, connect: connectModal }),
    },
  });
  const access = new AccessControl(config, db.prisma, logger);
  await access.init(config.host);
  const eventFeeds = new EventFeeds(db.prisma, pubsub);
  const services: AppServices = { prisma: db.prisma, pubsub, logger, config, jobs, deployments, access, eventFeeds };

  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // Over graphql-ws, `request` is absent and onSubscribe below passes `auth` and `connectionId`.
    context: (initial) => {
      const { request, auth, connectionId, req } = initial as typeof initial & { auth?: Principal; connectionId?: string; req?: IncomingMessage };
      const principal = auth ?? (request ? principalOf(request) : undefined);
      if (!principal) throw new Error('request reached the context factory without authentication');
      return {
        ...services,
        requestId: request?.headers.get('x-request-id') ?? randomUUID(),
        auth: principal,
        connectionId: connectionId ?? httpConnectionId({ req }),
      };
    },
    plugins: access.plugins() as never,
    maxRequestBodySize: config.limits.maxBodyBytes,
    // Without an allow-list no CORS headers are sent, so browsers keep other sites from reading responses.
    cors: config.corsOrigins.length > 0 ? { origin: config.corsOrigins, allowedHeaders: ['authorization', 'content-type', 'x-graphql-csrf', 'x-request-id'], credentials: false } : false,
    maskedErrors: { maskError: (error, message) => maskUnexpectedError(error, message, logger) },
    graphiql: { title: 'Tunedeck GraphiQL', subscriptionsProtocol: 'WS' },
    renderGraphiQL,
    landingPage: false,
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error({ err: args.find((arg) => arg instanceof Error) }, args.filter((arg) => !(arg instanceof Error)).map(String).join(' ') || 'graphql error'),
    },
  });

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handleHttp(req, res, { db, yoga, services }).catch((error) => {
      logger.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal server error.\n');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
  const wsServer = useServer<Record<string, unknown>>(
    {
      // Run socket operations through Yoga's envelop pipeline too (error masking, plugins).
      execute: (args) => (args.rootValue as EnvelopedRunners).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRunners).subscribe(args) as never,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        if (!isAllowedOrigin(ctx.extra.request, config.corsOrigins)) {
          socket.close(WS_FORBIDDEN, 'Forbidden: this origin may not open a WebSocket; add it to TUNEDECK_CORS_ORIGINS');
          return false;
        }
        const params = ctx.connectionParams ?? {};
        const credential = params.authorization ?? params.Authorization ?? params.apiKey;
        try {
          const principal = await access.authenticator.authenticate(secretFromAuthorization(typeof credential === 'string' ? credential : null));
          const untrack = access.sessions.addSocket(principal.kind === 'key' ? principal.key.id : null, (code, reason) => socket.close(code, reason));
          socket.once('close', untrack);
          Object.assign(ctx.extra, { principal, connectionId: `ws:${randomUUID()}` });
          return true;
        } catch (error) {
          socket.close(WS_UNAUTHORIZED, `Unauthorized: ${(error as Error).message}`.slice(0, 120));
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { principal, connectionId } = ctx.extra as typeof ctx.extra & { principal: Principal; connectionId: string };
        // A key revoked after connect is rejected here, by closing the whole socket.
        if (principal.kind === 'key' && !(await access.keys.isActive(principal.key.id))) {
          ctx.extra.socket.close(WS_FORBIDDEN, 'Forbidden: this API key was revoked');
          return [new GraphQLError('This API key was revoked.', { extensions: { code: 'FORBIDDEN' } })];
        }
        const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload, auth: principal, connectionId });
        const document = enveloped.parse(payload.query);
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe } satisfies EnvelopedRunners,
        };
        return args;
      },
    },
    wss,
  );
  const pingTimer = setInterval(() => {
    for (const client of wss.clients) {
      const alive = (client as unknown as { isAlive?: boolean }).isAlive;
      if (alive === false) {
        client.terminate();
        continue;
      }
      (client as unknown as { isAlive?: boolean }).isAlive = false;
      client.ping();
    }
  }, WS_PING_MS);
  pingTimer.unref();
  wss.on('connection', (client) => {
    (client as unknown as { isAlive?: boolean }).isAlive = true;
    client.on('pong', () => {
      (client as unknown as { isAlive?: boolean }).isAlive = true;
    });
  });

  let stopped = false;
  return {
    services,
    db,
    yoga,
    orchestrator,
    server,
    async start(port = config.port, host = config.host) {
      await access.checkListen(host);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      if (options.orchestrate !== false) {
        orchestrator.start();
        deployments.start();
      }
      access.start();
      const address = server.address() as AddressInfo;
      const shownHost = address.address.includes(':') ? `[${address.address}]` : address.address;
      return { port: address.port, host: address.address, url: `http://${shownHost}:${address.port}` };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(pingTimer);
      access.stop();
      await orchestrator.stop();
      await deployments.stop();
      await wsServer.dispose();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections?.();
      for (const socket of sockets) socket.destroy();
      await closed;
      for (const executor of Object.values(executors)) await executor?.close();
      await db.close();
      logger.info('server stopped');
    },
  };
}

interface HttpDeps {
  db: Database;
  yoga: YogaServerInstance<Record<string, never>, Context>;
  services: AppServices;
}

async function handleHttp(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === GRAPHQL_PATH || url.pathname.startsWith(`${GRAPHQL_PATH}/`)) {
    await deps.yoga.handle(req, res);
    return;
  }
  if (url.pathname === '/healthz') {
    sendJson(res, 200, { status: 'ok' });
    return;
  }
  if (url.pathname === '/readyz') {
    const ready = await deps.db.isReady();
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', database: deps.db.kind });
    return;
  }
  const logs = /^\/api\/jobs\/([^/]+)\/logs$/.exec(url.pathname);
  if (logs && req.method === 'GET') {
    if (!(await authorizeRead(req, res, deps.services))) return;
    await sendLogs(res, deps, databaseId(decodeURIComponent(logs[1]!), 'Job'), url.searchParams);
    return;
  }
  await serveStatic(url.pathname, res);
}

/** Checks the key of a plain HTTP request (log downloads) for the read scope, and sends 401 or 403 itself when it fails. */
async function authorizeRead(req: IncomingMessage, res: ServerResponse, services: AppServices): Promise<boolean> {
  let principal: Principal;
  try {
    principal = await services.access.authenticator.authenticate(secretFromAuthorization(req.headers.authorization));
  } catch (error) {
    res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
    res.end(`${(error as Error).message}\n`);
    return false;
  }
  if (principal.scopes.has('read')) return true;
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('Not allowed: this API key lacks the read scope.\n');
  return false;
}

/** True for WebSocket upgrades from non-browser clients (no Origin), from this server's own page, or from an allowed origin. */
function isAllowedOrigin(req: IncomingMessage, allowed: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

async function sendLogs(res: ServerResponse, deps: HttpDeps, jobId: string, params: URLSearchParams): Promise<void> {
  const lines = jobLogLines(deps.services.prisma, jobId, { run: params.get('run'), level: params.get('level') });
  let first: IteratorResult<string>;
  try {
    first = await lines.next();
  } catch (error) {
    if (error instanceof LogRequestError) {
      res.writeHead(error.message.startsWith('No job') ? 404 : 400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${error.message}\n`);
      return;
    }
    throw error;
  }
  const suffix = params.get('run') ? `-dataset-${params.get('run')}` : '';
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-disposition': `attachment; filename="tunedeck-${jobId}${suffix}.log"`,
  });
  if (!first.done) res.write(first.value);
  for await (const line of lines) {
    if (!res.write(line)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

const PLACEHOLDER = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tunedeck</title></head>
<body><h1>Tunedeck</h1><p>The dashboard is not built. Run <code>npm run build:web</code>, or use <a href="${GRAPHQL_PATH}">GraphiQL</a>.</p></body></html>`;

/** Serves the built dashboard; unknown paths get index.html so client-side routes work. */
async function serveStatic(pathname: string, res: ServerResponse): Promise<void> {
  const relative = path.normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, '');
  let file = path.join(WEB_DIST, relative);
  if (!file.startsWith(WEB_DIST)) {
    res.writeHead(404).end();
    return;
  }
  let info = await stat(file).catch(() => null);
  if (!info || info.isDirectory()) {
    file = path.join(WEB_DIST, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PLACEHOLDER);
    return;
  }
  const immutable = file.includes(`${path.sep}assets${path.sep}`);
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  createReadStream(file).pipe(res);
}
