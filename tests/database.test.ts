import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../server/db/index.js';
import { applyMigrations, readMigrations, MIGRATIONS_DIR } from '../server/db/migrate.js';
import { printSortedSchema } from '../schema/index.js';
import { testDatabaseUrl } from './helpers/app.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const folders: string[] = [];

async function tempDir(prefix: string) {
  const folder = await mkdtemp(path.join(os.tmpdir(), prefix));
  folders.push(folder);
  return folder;
}

afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe('migrations', () => {
  it('apply once and keep data across restarts', async () => {
    const dataDir = await tempDir('tunedeck-db-');
    const first = await openDatabase({ dataDir });
    expect(first.appliedMigrations.length).toBeGreaterThan(0);
    await first.prisma.apiKey.create({ data: { name: 'kept', prefix: 'td_abc', hash: 'h1', scopes: ['read'] } });
    await first.close();

    const second = await openDatabase({ dataDir });
    expect(second.appliedMigrations).toEqual([]);
    expect(await second.isReady()).toBe(true);
    expect((await second.prisma.apiKey.findMany()).map((key) => key.name)).toEqual(['kept']);
    await second.close();
  });

  it.skipIf(!process.env.TUNEDECK_TEST_DATABASE_URL)('apply once on PostgreSQL and keep data', async () => {
    const url = (await testDatabaseUrl())!;
    const first = await openDatabase({ url, dataDir: 'unused' });
    expect(first.kind).toBe('postgres');
    expect(first.appliedMigrations.length).toBeGreaterThan(0);
    await first.prisma.apiKey.create({ data: { name: 'kept', prefix: 'td_pg', hash: 'h-pg', scopes: ['read'] } });
    await first.close();
    const second = await openDatabase({ url, dataDir: 'unused' });
    expect(second.appliedMigrations).toEqual([]);
    expect(await second.isReady()).toBe(true);
    expect((await second.prisma.apiKey.findMany()).map((key) => key.name)).toEqual(['kept']);
    await second.close();
  });

  it('record history the way prisma migrate does', async () => {
    const db = new PGlite();
    const migrations = await readMigrations();
    await applyMigrations({ query: (sql, params) => db.query(sql, params), exec: async (sql) => void (await db.exec(sql)) }, migrations);
    const { rows } = await db.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows.map((row) => row.migration_name)).toEqual(migrations.map((migration) => migration.name));
    expect(rows[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.finished_at).not.toBeNull();
    await db.close();
  });

  it('reject a migration edited after it was applied', async () => {
    const db = new PGlite();
    const runner = { query: (sql: string, params?: unknown[]) => db.query(sql, params), exec: async (sql: string) => void (await db.exec(sql)) };
    const migrations = await readMigrations();
    await applyMigrations(runner as never, migrations);
    const edited = migrations.map((migration, index) => (index === 0 ? { ...migration, checksum: 'f'.repeat(64) } : migration));
    await expect(applyMigrations(runner as never, edited)).rejects.toThrow(/was changed after it was applied/);
    await db.close();
  });

  it('roll back a failing migration and leave the data', async () => {
    const migrationsDir = await tempDir('tunedeck-migrations-');
    await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
    await (await import('node:fs/promises')).mkdir(path.join(migrationsDir, '29991231000000_broken'));
    await writeFile(path.join(migrationsDir, '29991231000000_broken', 'migration.sql'), 'ALTER TABLE "Job" ADD COLUMN "x" INTEGER;\nSELECT no_such_function();\n');
    const db = new PGlite();
    const runner = { query: (sql: string, params?: unknown[]) => db.query(sql, params), exec: async (sql: string) => void (await db.exec(sql)) };
    await expect(applyMigrations(runner as never, await readMigrations(migrationsDir))).rejects.toThrow(/29991231000000_broken failed and was rolled back/);
    const columns = await db.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'Job' AND column_name = 'x'");
    expect(columns.rows).toEqual([]);
    await db.close();
  });

  it('match prisma/schema.prisma', async () => {
    const { stdout } = await run(process.execPath, ['--experimental-wasm-modules', '--no-warnings', 'scripts/migration-diff.mjs', '--check'], { cwd: root });
    expect(stdout).toMatch(/match/);
  }, 120_000);
});

describe('printed schema', () => {
  it('matches schema/schema.graphql', async () => {
    const committed = await readFile(path.join(root, 'schema', 'schema.graphql'), 'utf8');
    expect(committed).toBe(printSortedSchema());
  });
});
