import { parseArgs } from 'node:util';
import { InvalidKeyRequest, KeyStore } from '../auth/keys.js';
import { ConfigError, loadConfig } from '../config.js';
import { DatabaseError, openDatabase } from '../db/index.js';

const USAGE = `Usage: npm run keys -- <command>

Commands:
  create --name NAME --scopes read,write,admin   Create a key and print its secret once
  list                                           List keys (id, name, prefix, scopes, last use, revoked)
  revoke ID                                      Revoke a key; requests with it fail from now on

Scopes: read (queries, subscriptions), write (launch, cancel, retry, deploy), admin (API keys).
The command opens the database the server uses (DATABASE_URL or TUNEDECK_DATA_DIR).
With the embedded database, stop the server first: only one process can open it.`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, scopes: { type: 'string' }, help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  let db;
  try {
    db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  } catch (error) {
    if (error instanceof DatabaseError) fail(error.message, 1);
    throw error;
  }
  const store = new KeyStore(db.prisma);

  try {
    switch (command) {
      case 'create': {
        if (!values.name) fail('Missing --name: say who or what uses the key, for example --name ci.');
        if (!values.scopes) fail('Missing --scopes: one or more of read, write, admin, comma-separated, for example --scopes read,write.');
        const { key, secret } = await store.create(values.name, values.scopes.split(','));
        if (values.json) {
          console.log(JSON.stringify({ ...key, secret }));
        } else {
          console.log(`Created API key ${key.id} "${key.name}" with scopes ${key.scopes.join(', ')}.`);
          console.log(`Secret (shown only now; store it safely): ${secret}`);
          console.log(`Send it as: Authorization: Bearer ${secret}`);
        }
        break;
      }
      case 'list': {
        const keys = await store.list();
        if (values.json) {
          console.log(JSON.stringify(keys));
        } else if (keys.length === 0) {
          console.log('No API keys. Create one with: npm run keys -- create --name NAME --scopes read,write,admin');
        } else {
          for (const key of keys) {
            const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active';
            const used = key.lastUsedAt ? key.lastUsedAt.toISOString() : 'never';
            console.log(`${key.id}  ${key.name}  ${key.prefix}…  ${key.scopes.join(',')}  last used ${used}  ${state}`);
          }
        }
        break;
      }
      case 'revoke': {
        const id = rest[0];
        if (!id) fail('Missing key id: npm run keys -- revoke ID (ids are listed by `npm run keys -- list`).');
        const key = await store.revoke(id);
        if (!key) fail(`No API key has id ${JSON.stringify(id)}; list keys with \`npm run keys -- list\`.`, 1);
        console.log(`Revoked API key ${key.id} "${key.name}" at ${key.revokedAt!.toISOString()}.`);
        break;
      }
      default:
        fail(`Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`);
    }
  } catch (error) {
    if (error instanceof InvalidKeyRequest) fail(error.message);
    throw error;
  } finally {
    await db.close();
  }
}

await main();
