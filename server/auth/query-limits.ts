import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, Kind, validate, visit, type DocumentNode, type GraphQLSchema, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { RequestLimits } from '../config.js';

/** Stable `extensions.code` of each rejected request. */
export const LIMIT_CODES = {
  depth: 'QUERY_TOO_DEEP',
  cost: 'QUERY_TOO_COSTLY',
  aliases: 'TOO_MANY_ALIASES',
  directives: 'TOO_MANY_DIRECTIVES',
  tokens: 'TOO_MANY_TOKENS',
  /** Set by Yoga's own body limit (`maxRequestBodySize`), with HTTP status 413. */
  bodySize: 'REQUEST_ENTITY_TOO_LARGE',
  rate: 'RATE_LIMITED',
  subscriptions: 'TOO_MANY_SUBSCRIPTIONS',
} as const;

export function limitError(code: string, message: string, extra: Record<string, unknown> = {}, status = 400): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status }, ...extra } });
}

/** Replaces GraphQL Armor's "Syntax Error: " message prefix with a plain message and a stable code. */
function reportWithCode(code: string, hint: string) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    const message = `${error.message.replace(/^Syntax Error:\s*/, '')} ${hint}`;
    const coded = limitError(code, message);
    if (context) context.reportError(coded);
    else throw coded;
  };
}

/**
 * Depth, alias, directive and token limits from GraphQL Armor, each failing with its
 * own code. The cost limit runs at execution instead (see `useCostLimit`), because
 * Armor only multiplies by a literal `first`, and a variable would slip through.
 */
export function useQueryLimits(limits: RequestLimits): Plugin {
  const common = { exposeLimits: true, propagateOnRejection: false } as const;
  const rules = [
    maxDepthRule({ ...common, n: limits.maxDepth, onReject: [reportWithCode(LIMIT_CODES.depth, 'Select fewer nested levels or split the query.')] }),
    maxAliasesRule({ ...common, n: limits.maxAliases, onReject: [reportWithCode(LIMIT_CODES.aliases, 'Send separate requests instead.')] }),
    maxDirectivesRule({ ...common, n: limits.maxDirectives, onReject: [reportWithCode(LIMIT_CODES.directives, 'Remove repeated directives.')] }),
  ];
  const parseWithTokenLimit = (source: Parameters<typeof parseDocument>[0]) => parseDocument(source, limits.maxTokens);
  return {
    onParse({ setParseFn }) {
      setParseFn(parseWithTokenLimit as never);
    },
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
    },
  };
}

function parseDocument(source: string | import('graphql').Source, maxTokens: number): DocumentNode {
  const parser = new MaxTokensParserWLexer(source, {
    n: maxTokens,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [reportWithCode(LIMIT_CODES.tokens, 'Shorten the document.')],
  });
  return parser.parseDocument();
}

/**
 * Returns the document with every `first`/`last` argument given by a variable replaced
 * by the variable's value, so the cost rule multiplies by the real page size.
 */
export function inlinePageSizes(document: DocumentNode, variables: Record<string, unknown> | null | undefined): DocumentNode {
  if (!variables) return document;
  return visit(document, {
    Argument(node) {
      if (node.name.value !== 'first' && node.name.value !== 'last') return undefined;
      if (node.value.kind !== Kind.VARIABLE) return undefined;
      const value = variables[node.value.name.value];
      if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
      return { ...node, value: { kind: Kind.INT, value: String(Math.max(0, Math.trunc(value))) } };
    },
  });
}

/** Returns the cost-limit error for an operation, or null when it is within the limit. */
export function checkCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, maxCost: number): GraphQLError | null {
  const errors = validate(schema, inlinePageSizes(document, variables), [
    costLimitRule({
      maxCost,
      exposeLimits: true,
      propagateOnRejection: false,
      onReject: [reportWithCode(LIMIT_CODES.cost, 'Request smaller pages (`first`/`last`) or fewer fields.')],
    }),
  ]);
  return errors.find((error) => error.extensions?.code === LIMIT_CODES.cost) ?? null;
}

/** Rejects operations over the cost limit before they execute, over HTTP and WebSocket alike. */
export function useCostLimit(limits: RequestLimits): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = checkCost(args.schema, args.document, args.variableValues as Record<string, unknown> | undefined, limits.maxCost);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = checkCost(args.schema, args.document, args.variableValues as Record<string, unknown> | undefined, limits.maxCost);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
