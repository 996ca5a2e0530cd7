import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PothosValidationError } from '@pothos/core';
import { getOperationAST, GraphQLError, Kind, type ExecutionResult } from 'graphql';
import { handleStreamOrSingleExecutionResult, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { RequestLimits } from '../config.js';
import type { Logger } from '../logger.js';
import { secretFromAuthorization, type Authenticator, type Principal } from './access.js';
import { LIMIT_CODES, limitError } from './query-limits.js';
import type { RateLimiter } from './rate-limit.js';
import type { LiveSessions } from './sessions.js';

/** Fields of the GraphQL context that the access plugins read. */
export interface AccessContext {
  auth: Principal;
  requestId: string;
  /** Groups subscriptions while the server runs open: the WebSocket, or the client address over HTTP. */
  connectionId: string;
}

const principals = new WeakMap<Request, Principal>();

/** Returns the principal that `useAuthentication` stored for an HTTP request. */
export function principalOf(request: Request): Principal | undefined {
  return principals.get(request);
}

/** Connection id for an HTTP request: its client address, so open-mode SSE streams share one cap per client. */
export function httpConnectionId(serverContext: { req?: IncomingMessage }): string {
  return `http:${serverContext.req?.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * Authenticates HTTP requests before their body is parsed, so a caller without a
 * valid key costs no parsing or validation.
 */
export function useAuthentication(authenticator: Authenticator): Plugin {
  return {
    async onRequestParse({ request }) {
      const secret = secretFromAuthorization(request.headers.get('authorization'));
      principals.set(request, await authenticator.authenticate(secret));
    },
  };
}

function rootFieldCount(args: { document: import('graphql').DocumentNode; operationName?: string | null }): { operation: string | null; fields: number } {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation) return { operation: null, fields: 0 };
  const fields = operation.selectionSet.selections.filter((selection) => selection.kind === Kind.FIELD && !selection.name.value.startsWith('__')).length;
  return { operation: operation.operation, fields: Math.max(1, fields) };
}

/** Applies the per-key token bucket to mutations. Each root mutation field costs one token. */
export function useMutationRateLimit(limiter: RateLimiter, limits: RequestLimits): Plugin<AccessContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const { operation, fields } = rootFieldCount(args);
      if (operation !== 'mutation') return;
      const auth = args.contextValue.auth;
      const bucket = auth.kind === 'key' ? `key:${auth.key.id}` : 'open';
      const waitSeconds = limiter.take(bucket, fields);
      if (waitSeconds === 0) return;
      const who = auth.kind === 'key' ? `API key "${auth.key.name}"` : 'this server (open mode)';
      const retry = Number.isFinite(waitSeconds) ? ` Retry in ${waitSeconds} s.` : ` Send at most ${limits.mutationBurst} mutation fields per request.`;
      setResultAndStopExecution({
        errors: [
          limitError(
            LIMIT_CODES.rate,
            `Too many mutations for ${who}: the limit is ${limits.mutationsPerMinute} per minute with bursts of ${limits.mutationBurst}.${retry}`,
            Number.isFinite(waitSeconds) ? { retryAfterSeconds: waitSeconds } : {},
            429,
          ),
        ],
      });
    },
  };
}

/**
 * Wraps a subscription so that it ends when `signal` aborts, sending the abort reason
 * as a last error result, and calls `release` once however it ends. `return()` settles
 * at once: an async generator's own `return()` would wait for the source's next event.
 */
function abortable(source: AsyncIterable<ExecutionResult>, signal: AbortSignal, release: () => void): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const done: IteratorResult<ExecutionResult> = { done: true, value: undefined };
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    release();
    // Not awaited, for the same reason: the source may be waiting for its next event.
    void iterator.return?.()?.catch(() => {});
  };
  const abortResult = (): IteratorResult<ExecutionResult> => ({ done: false, value: { errors: [signal.reason as GraphQLError] } });
  const aborted = new Promise<'aborted'>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (finished) return done;
      const next = signal.aborted ? 'aborted' : await Promise.race([iterator.next(), aborted]);
      if (finished) return done;
      if (next === 'aborted') {
        finish();
        return abortResult();
      }
      if (next.done) finish();
      return next;
    },
    async return() {
      finish();
      return done;
    },
    async throw(error: unknown) {
      finish();
      throw error;
    },
  };
}

/** Caps live subscriptions per key (per connection while open) and lets `LiveSessions` end them. */
export function useSubscriptionLimit(sessions: LiveSessions): Plugin<AccessContext> {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const { auth, connectionId } = args.contextValue;
      const handle = sessions.acquire(auth, connectionId);
      if (!handle) {
        const scope = auth.kind === 'key' ? `API key "${auth.key.name}"` : 'this connection';
        setResultAndStopExecution({
          errors: [limitError(LIMIT_CODES.subscriptions, `Too many subscriptions for ${scope}: at most ${sessions.limit} may be live at once. Stop one before starting another.`, {}, 429)],
        });
        return undefined;
      }
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(abortable(result as AsyncIterable<ExecutionResult>, handle.signal, handle.release));
          else handle.release();
        },
        onSubscribeError() {
          handle.release();
        },
      };
    },
  };
}

/** True for errors a client may see as they are: deliberate GraphQL errors and Pothos's input checks. */
function isExpected(error: GraphQLError): boolean {
  const original = error.originalError;
  return original === undefined || original === null || original instanceof GraphQLError || original instanceof PothosValidationError;
}

/**
 * Masks unexpected errors from resolvers: the client gets "Unexpected error." with an
 * error id and the request id, and the log gets the error with the same ids.
 */
export function useErrorMasking(logger: Logger): Plugin<AccessContext> {
  const mask = (result: ExecutionResult, requestId: string): ExecutionResult | null => {
    if (!result.errors?.some((error) => error instanceof GraphQLError && !isExpected(error))) return null;
    const errors = result.errors.map((error) => {
      if (isExpected(error)) {
        if (error.originalError instanceof PothosValidationError) {
          return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: { code: 'BAD_USER_INPUT' } });
        }
        return error;
      }
      const errorId = randomUUID();
      logger.error({ err: error.originalError, requestId, errorId, path: error.path?.join('.') }, 'unexpected error in a resolver, masked for the client');
      return new GraphQLError('Unexpected error.', { nodes: error.nodes, path: error.path, extensions: { code: 'INTERNAL_SERVER_ERROR', errorId, requestId } });
    });
    return { ...result, errors };
  };
  const onDone = (payload: Parameters<typeof handleStreamOrSingleExecutionResult<AccessContext>>[0]) =>
    handleStreamOrSingleExecutionResult(payload, ({ result, setResult, args }) => {
      const masked = mask(result, args.contextValue.requestId);
      if (masked) setResult(masked);
    });
  return {
    onExecute() {
      return { onExecuteDone: onDone };
    },
    onSubscribe() {
      return {
        onSubscribeResult: onDone as never,
      };
    },
  };
}

/**
 * Yoga's `maskError` for errors outside resolvers (context, parsing, plugins).
 * Expected GraphQL errors pass unchanged, and anything else is logged with an error id and masked.
 */
export function maskUnexpectedError(error: unknown, message: string, logger: Logger): Error {
  if (error instanceof GraphQLError && isExpected(error)) return error;
  const errorId = randomUUID();
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  logger.error({ err: original, errorId }, 'unexpected error, masked for the client');
  return new GraphQLError(message, {
    nodes: error instanceof GraphQLError ? error.nodes : undefined,
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR', errorId, http: { status: 500 } },
  });
}
