import type { ApiKeyInfo } from '../server/auth/keys.js';
import { InvalidKeyRequest, SCOPES } from '../server/auth/keys.js';
import { NotFound } from '../server/jobs/service.js';
import { builder } from './builder.js';
import { ErrorInterface } from './errors.js';
import { databaseId, globalId } from './ids.js';

const ApiKeyScopeEnum = builder.enumType('ApiKeyScope', {
  description: 'read: queries and subscriptions; write: launch, cancel, retry, deploy; admin: API keys.',
  values: Object.fromEntries(SCOPES.map((scope) => [scope.toUpperCase(), { value: scope }])) as Record<'READ' | 'WRITE' | 'ADMIN', { value: (typeof SCOPES)[number] }>,
});

const ApiKeyType = builder.objectRef<ApiKeyInfo>('ApiKey').implement({
  description: 'An API key. The secret is shown once, when the key is created; only its sha256 hash is stored.',
  fields: (t) => ({
    id: t.id({ resolve: (key) => globalId('ApiKey', key.id) }),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'First characters of the secret, to tell keys apart.' }),
    scopes: t.field({ type: [ApiKeyScopeEnum], resolve: (key) => key.scopes }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Recorded at most once a minute.' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.objectType(InvalidKeyRequest, {
  name: 'InvalidApiKeyError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.string({ resolve: () => 'INVALID_API_KEY_REQUEST' }),
  }),
});

const CreatedApiKeyType = builder.objectRef<{ key: ApiKeyInfo; secret: string }>('CreatedApiKey').implement({
  fields: (t) => ({
    key: t.field({ type: ApiKeyType, resolve: (created) => created.key }),
    secret: t.exposeString('secret', { description: 'Send as `Authorization: Bearer <secret>`. Shown only in this response; it cannot be read again.' }),
  }),
});

builder.queryField('apiKeys', (t) =>
  t.field({
    type: [ApiKeyType],
    description: 'Every API key, revoked ones included, oldest first. Requires the admin scope.',
    skipTypeScopes: true,
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.access.keys.list(),
  }),
);

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKeyType,
    description: 'Creates an API key and returns its secret once. Requires the admin scope.',
    skipTypeScopes: true,
    authScopes: { admin: true },
    errors: { types: [InvalidKeyRequest] },
    args: {
      name: t.arg.string({ required: true, description: '1-100 characters, for people: who or what uses the key.' }),
      scopes: t.arg({ type: [ApiKeyScopeEnum], required: true }),
    },
    resolve: async (_root, { name, scopes }, ctx) => {
      const created = await ctx.access.keys.create(name, scopes);

      ctx.access.keyCreated();

      return created;
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyType,
    description: 'Revokes an API key: requests with it fail from now on and its live subscriptions end. Revoking twice is harmless. Requires the admin scope.',
    skipTypeScopes: true,
    authScopes: { admin: true },
    errors: { types: [NotFound] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const key = await ctx.access.keys.revoke(databaseId(id, 'ApiKey'));
      if (!key) throw new NotFound(`No API key has id ${JSON.stringify(String(id))}. List keys with the apiKeys query.`);
      return key;
    },
  }),
}));
