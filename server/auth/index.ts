import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import type { PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';
import { Authenticator, forbidden, isLoopbackHost } from './access.js';
import { KeyStore } from './keys.js';
import { type AccessContext, useAuthentication, useErrorMasking, useMutationRateLimit, useSubscriptionLimit } from './plugins.js';
import { useCostLimit, useQueryLimits } from './query-limits.js';
import { RateLimiter } from './rate-limit.js';
import { LiveSessions } from './sessions.js';

export { principalOf, httpConnectionId, type AccessContext } from './plugins.js';
export { secretFromAuthorization, isLoopbackHost, type Principal } from './access.js';
export { KeyStore, SCOPES, type Scope, type ApiKeyInfo } from './keys.js';

/** Header a browser client sends so its requests pass CSRF prevention (any value). */
export const CSRF_HEADER = 'x-graphql-csrf';
/** graphql-ws close codes from the protocol: 4401 Unauthorized, 4403 Forbidden. */
export const WS_UNAUTHORIZED = 4401;
export const WS_FORBIDDEN = 4403;
/** How often revocations made by another process (the keys CLI) and new keys are picked up. */
const SWEEP_INTERVAL_MS = 3_000;

/** Thrown by `checkListen` when the server would be reachable from other machines without a key. */
export class InsecureListenError extends Error {
  override name = 'InsecureListenError';
}

/** Keys, authentication, limits and live sessions of one server. */
export class AccessControl {
  readonly keys: KeyStore;
  readonly authenticator: Authenticator;
  readonly sessions: LiveSessions;
  private readonly limiter: RateLimiter;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Config,
    prisma: PrismaClient,
    private readonly logger: Logger,
  ) {
    this.keys = new KeyStore(prisma, logger);
    this.authenticator = new Authenticator(this.keys);
    this.sessions = new LiveSessions(config.limits.maxSubscriptions);
    this.limiter = new RateLimiter(config.limits.mutationBurst, config.limits.mutationsPerMinute);
    this.keys.onRevoke((keyId) => {
      const ended = this.sessions.endKey(keyId, forbidden('This API key was revoked.'), WS_FORBIDDEN);
      if (ended > 0) logger.info({ keyId, subscriptions: ended }, 'ended the subscriptions of a revoked API key');
      void this.authenticator.refresh().catch(() => {});
    });
  }

  /** Yoga plugins in the order they must run: CSRF, authentication, limits, then error masking. */
  plugins(): Plugin<AccessContext>[] {
    return [
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER, 'authorization'] }) as Plugin<AccessContext>,
      useAuthentication(this.authenticator) as Plugin<AccessContext>,
      useQueryLimits(this.config.limits) as Plugin<AccessContext>,
      useCostLimit(this.config.limits) as Plugin<AccessContext>,
      useMutationRateLimit(this.limiter, this.config.limits),
      useSubscriptionLimit(this.sessions),
      useErrorMasking(this.logger),
    ];
  }

  /** Reads whether keys exist and whether open mode is possible on `host`, without logging; `checkListen` decides for real. */
  async init(host: string): Promise<void> {
    await this.authenticator.refresh();
    this.authenticator.allowOpen(isLoopbackHost(host) || this.config.allowInsecure);
  }

  /**
   * Decides, before listening on `host`, whether the server may run open. Throws
   * InsecureListenError for a non-loopback address with no key unless TUNEDECK_ALLOW_INSECURE=true.
   */
  async checkListen(host: string): Promise<void> {
    const hasKeys = await this.authenticator.refresh();
    const loopback = isLoopbackHost(host);
    if (!hasKeys && !loopback && !this.config.allowInsecure) {
      throw new InsecureListenError(
        `refusing to listen on ${host} without an API key, because anyone who can reach it could launch GPU jobs. Create a key first with \`npm run keys -- create --name admin --scopes read,write,admin\`, listen on 127.0.0.1, or set TUNEDECK_ALLOW_INSECURE=true`,
      );
    }
    this.authenticator.allowOpen(loopback || this.config.allowInsecure);
    if (!hasKeys) {
      this.logger.warn(
        { host, allowInsecure: this.config.allowInsecure },
        loopback
          ? `No API key exists, so the API is open to every local user of this machine (listening on ${host} only). Create a key with \`npm run keys -- create\` to require keys.`
          : `No API key exists and TUNEDECK_ALLOW_INSECURE=true: the API on ${host} is open to everyone who can reach it.`,
      );
    }
  }

  /** Starts the periodic pass that ends sessions of keys revoked elsewhere and notices new keys. */
  start(): void {
    this.sweepTimer = setInterval(() => void this.sweep().catch((error: unknown) => this.logger.warn({ err: error }, 'API key sweep failed')), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
    this.limiter.prune();
  }

  /** Ends sessions whose key was revoked by another process, and open-mode sessions once a key exists. */
  async sweep(): Promise<void> {
    await this.authenticator.refresh();
    const live = this.sessions.liveKeys();
    const keyIds = [...live].filter((id): id is string => id !== null);
    for (const keyId of await this.keys.findInactive(keyIds)) {
      const ended = this.sessions.endKey(keyId, forbidden('This API key was revoked.'), WS_FORBIDDEN);
      this.logger.info({ keyId, subscriptions: ended }, 'ended the subscriptions of a revoked API key');
    }
    if (live.has(null) && !this.authenticator.isOpen) {
      const ended = this.sessions.endKey(null, forbidden('An API key now exists, so this server requires one. Reconnect with a key.'), WS_FORBIDDEN);
      if (ended > 0) this.logger.info({ subscriptions: ended }, 'API keys now required; ended the sessions opened without one');
    }
    this.limiter.prune();
  }

  /** Records that a key was created in this process, so open mode ends at once. */
  keyCreated(): void {
    this.authenticator.keyCreated();
    void this.sweep().catch((error: unknown) => this.logger.warn({ err: error }, 'API key sweep failed'));
  }
}
