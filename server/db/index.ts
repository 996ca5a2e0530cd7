import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../../prisma/generated/client/client.js';
import { applyMigrations, pendingMigrations, readMigrations, type Migration, type SqlRunner } from './migrate.js';

export { PrismaClient };
export type * from '../../prisma/generated/client/client.js';

export interface Database {
  prisma: PrismaClient;
  kind: 'pglite' | 'postgres';
  /** Location of the data: a folder for PGlite, the URL without its password for PostgreSQL. */
  location: string;
  /** Names of the migrations applied when the database was opened. */
  appliedMigrations: string[];
  /** True when the database responds and no committed migration is missing. */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}

export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent an embedded PGlite database is used. */
  url?: string;
  /** Folder of the embedded database; `memory://` keeps it in memory (tests). */
  dataDir: string;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

async function openPglite(dataDir: string): Promise<{ client: PGlite; location: string }> {
  if (dataDir === 'memory://') return { client: new PGlite(), location: 'memory' };
  const folder = path.join(dataDir, 'pglite');
  try {
    await mkdir(folder, { recursive: true });
    await access(folder, constants.W_OK);
  } catch (error) {
    throw new DatabaseError(
      `Cannot write the data folder ${folder}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Set TUNEDECK_DATA_DIR to a folder this user can write, or fix its permissions.`,
    );
  }
  try {
    const client = new PGlite(folder);
    await client.waitReady;
    return { client, location: folder };
  } catch (error) {
    throw new DatabaseError(
      `Cannot open the embedded database in ${folder}: ${(error as Error).message}. If another Tunedeck server uses this folder, stop it or set TUNEDECK_DATA_DIR to another folder.`,
    );
  }
}

/** True when the database responds and every committed migration is applied. */
async function isMigrated(runner: SqlRunner, migrations: Migration[]): Promise<boolean> {
  try {
    return (await pendingMigrations(runner, migrations)).length === 0;
  } catch {
    return false;
  }
}

/** Opens the database, applies missing migrations and returns a Prisma client over a driver adapter. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const migrations = await readMigrations();

  if (!options.url) {
    const { client, location } = await openPglite(options.dataDir);
    const runner: SqlRunner = {
      query: (sql, params) => client.query(sql, params),
      exec: async (sql) => {
        await client.exec(sql);
      },
    };
    const appliedMigrations = await applyMigrations(runner, migrations);
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(client) });
    return {
      prisma,
      kind: 'pglite',
      location,
      appliedMigrations,
      isReady: () => isMigrated(runner, migrations),
      close: async () => {
        await prisma.$disconnect();
        await client.close();
      },
    };
  }

  const location = redactUrl(options.url);
  const pool = new pg.Pool({ connectionString: options.url, max: 10, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {
    // Idle clients that lose their connection emit here; queries report their own errors.
  });
  const runner: SqlRunner = {
    query: async <Row>(sql: string, params?: unknown[]) => (await pool.query(sql, params)) as unknown as { rows: Row[] },
    exec: async (sql) => {
      await pool.query(sql);
    },
  };
  let appliedMigrations: string[];
  try {
    // The advisory lock must be held on one connection, so migrate on a dedicated client.
    const connection = await pool.connect();
    try {
      appliedMigrations = await applyMigrations(
        {
          query: async <Row>(sql: string, params?: unknown[]) => (await connection.query(sql, params)) as unknown as { rows: Row[] },
          exec: async (sql) => void (await connection.query(sql)),
        },
        migrations,
      );
    } finally {
      connection.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    const message = (error as Error).message || String(error);
    if (/Migration /.test(message)) throw error;
    throw new DatabaseError(`Cannot reach PostgreSQL at ${location}: ${message}. Check DATABASE_URL and that the server is running.`);
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    kind: 'postgres',
    location,
    appliedMigrations,
    isReady: () => isMigrated(runner, migrations),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
