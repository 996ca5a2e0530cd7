import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type PrismaTypes from '../prisma/generated/pothos-types.js';
import { getDatamodel } from '../prisma/generated/pothos-types.js';
import type { Context } from './context.js';

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes;
  Context: Context;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
  AuthScopes: { read: boolean; write: boolean; admin: boolean };
}>({
  // Scope auth first, so no other plugin's wrapper runs before the check.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Checked once when a subscription starts, not on every event.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({ read: ctx.auth.scopes.has('read'), write: ctx.auth.scopes.has('write'), admin: ctx.auth.scopes.has('admin') }),
    unauthorizedError: (_parent, ctx, info) => {
      const who = ctx.auth.kind === 'key' ? `API key "${ctx.auth.key.name}" (scopes: ${[...ctx.auth.scopes].join(', ')})` : 'this request';
      return new GraphQLError(`Not allowed: ${who} may not use ${info.parentType.name}.${info.fieldName}. Use a key with the scope this field requires (read: queries and subscriptions, write: launch, cancel, retry, deploy, admin: API keys).`, {
        extensions: { code: 'FORBIDDEN' },
      });
    },
  },
  prisma: {
    // Each server (and each test) has its own database, so the client comes from the context.
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
  errors: {
    defaultTypes: [],
    defaultResultOptions: { name: ({ fieldName }) => `${capitalize(fieldName)}Success` },
    defaultUnionOptions: { name: ({ fieldName }) => `${capitalize(fieldName)}Result` },
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);

// Every root field needs a scope: queries and subscriptions `read`, mutations `write`.
// Key management fields replace these with `admin` (schema/auth.ts).
builder.queryType({ authScopes: { read: true } });
builder.mutationType({ authScopes: { write: true } });
builder.subscriptionType({ authScopes: { read: true } });
