import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { DatabaseError } from './db/index.js';
import { createLogger } from './logger.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}

const logger = createLogger(config);
let app;
try {
  app = await createApp({ config, logger });
} catch (error) {
  if (error instanceof DatabaseError) {
    logger.fatal(error.message);
  } else {
    logger.fatal({ err: error }, 'start-up failed');
  }
  logger.flush?.();
  process.exit(1);
}

try {
  const { url } = await app.start(config.port, config.host);
  logger.info({ url, graphiql: `${url}/graphql`, executor: config.executor }, `Tunedeck is listening on ${url} (dashboard ${url}/, GraphiQL ${url}/graphql)`);
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'EADDRINUSE' ? `port ${config.port} is already in use; set PORT to a free port` : (error as Error).message;
  logger.fatal(`Cannot listen on ${config.host}:${config.port}: ${reason}.`);
  await app.stop();
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app
      .stop()
      .then(() => process.exit(0))
      .catch((error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  });
}
