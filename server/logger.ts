import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * Builds the process logger: JSON lines in production, pino-pretty otherwise.
 * Secrets never reach it: request headers are not logged and the redact list
 * covers the fields where a token could appear.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: { service: 'tunedeck' },
    redact: {
      paths: ['*.authorization', '*.token', '*.secret', '*.apiKey', 'headers.authorization', '*.MODAL_TOKEN_SECRET', '*.HF_TOKEN'],
      censor: '[redacted]',
    },
  };
  if (destination) return pino(options, destination);
  if (config.logFormat === 'pretty') {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' } } });
  }
  return pino(options);
}
