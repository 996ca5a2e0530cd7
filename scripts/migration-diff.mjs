// Writes a new SQL migration (or checks that none is needed) by diffing the
// committed migrations against prisma/schema.prisma with Prisma's schema engine
// compiled to WebAssembly. It runs offline: the shadow database is an in-memory
// PGlite. Run with `node --experimental-wasm-modules`.
//
//   npm run db:diff -- --name add_field   write prisma/migrations/<timestamp>_add_field
//   npm run db:diff -- --check            exit 1 when the schema and migrations differ
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { SchemaEngine } from '@prisma/schema-engine-wasm';
import { PrismaPGlite } from 'pglite-prisma-adapter';

const root = path.resolve(import.meta.dirname, '..');
const migrationsDir = path.join(root, 'prisma', 'migrations');
const schemaPath = path.join(root, 'prisma', 'schema.prisma');

const { values } = parseArgs({ options: { name: { type: 'string' }, check: { type: 'boolean' } } });
if (!values.check && !values.name) {
  console.error('Pass --name <snake_case_name> to write a migration, or --check to compare only.');
  process.exit(2);
}

async function listMigrations() {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  return Promise.all(
    dirs.map(async (dir) => ({
      path: dir,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok', value: await readFile(path.join(migrationsDir, dir, 'migration.sql'), 'utf8') },
      },
    })),
  );
}

const schema = await readFile(schemaPath, 'utf8');
const shadow = new PGlite();
const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(shadow));
const engine = await SchemaEngine.new({ datamodels: [[schemaPath, schema]] }, () => {}, adapter);

const result = await engine.diff({
  from: {
    tag: 'migrations',
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: 'provider = "postgresql"\n' },
    shadowDbInitScript: '',
    migrationDirectories: await listMigrations(),
  },
  to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
  script: true,
  exitCode: true,
  filters: { externalTables: [], externalEnums: [] },
});
await shadow.close();

const sql = result.stdout ?? '';
const empty = result.exitCode === 0 || sql.trim() === '' || sql.includes('This is an empty migration');
if (values.check) {
  if (!empty) {
    console.error('prisma/schema.prisma differs from prisma/migrations. Write a migration with:\n  npm run db:diff -- --name <name>\nMissing SQL:\n' + sql);
    process.exit(1);
  }
  console.log('prisma/migrations match prisma/schema.prisma.');
  process.exit(0);
}
if (empty) {
  console.log('No schema changes: no migration written.');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const dir = path.join(migrationsDir, `${stamp}_${values.name}`);
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, 'migration.sql'), sql);
await writeFile(path.join(migrationsDir, 'migration_lock.toml'), '# Managed by Prisma; do not edit.\nprovider = "postgresql"\n');
console.log(`Wrote ${path.relative(root, dir)}/migration.sql`);
