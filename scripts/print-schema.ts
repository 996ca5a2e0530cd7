// Writes schema/schema.graphql from the Pothos schema (sorted), or with --check
// exits 1 when the committed file differs from what the code builds.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { printSortedSchema } from '../schema/index.js';

const target = path.resolve(import.meta.dirname, '..', 'schema', 'schema.graphql');
const printed = printSortedSchema();

if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== printed) {
    console.error('schema/schema.graphql is out of date. Run `npm run schema:print` and commit the result.');
    process.exit(1);
  }
  console.log('schema/schema.graphql is up to date.');
} else {
  await writeFile(target, printed);
  console.log(`Wrote ${path.relative(process.cwd(), target)}`);
}
