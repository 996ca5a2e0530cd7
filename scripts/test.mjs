// `npm test`: prepares the clone, then runs every test and reports counts.
//   1. vitest on the embedded database (PGlite)
//   2. vitest again on PostgreSQL for the database-facing files, when
//      TUNEDECK_TEST_DATABASE_URL names a server (CI sets it)
//   3. pytest for the Python pipeline
// Exits non-zero when any step fails; later steps still run.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const POSTGRES_FILES = ['tests/database.test.ts', 'tests/subscriptions.test.ts', 'tests/launch-validation.test.ts', 'tests/local-job.test.ts', 'tests/modal-executor.test.ts'];

function run(label, command, args, options = {}) {
  console.log(`\n=== ${label} ===`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  return result.status ?? 1;
}

const setup = run('setup', process.execPath, [path.join(root, 'scripts', 'setup.mjs')]);
if (setup !== 0) process.exit(setup);

const failures = [];
const pgliteEnv = { ...process.env };
delete pgliteEnv.TUNEDECK_TEST_DATABASE_URL;
if (run('TypeScript tests on PGlite (vitest)', process.execPath, [vitest, 'run'], { env: pgliteEnv }) !== 0) failures.push('vitest (PGlite)');

if (process.env.TUNEDECK_TEST_DATABASE_URL) {
  if (run('TypeScript tests on PostgreSQL (vitest)', process.execPath, [vitest, 'run', ...POSTGRES_FILES]) !== 0) failures.push('vitest (PostgreSQL)');
} else {
  console.log('\nTUNEDECK_TEST_DATABASE_URL is not set: skipping the PostgreSQL pass (CI runs it).');
}

if (run('Python tests (pytest)', path.join(root, 'modal', '.venv', 'bin', 'python'), ['-m', 'pytest', '-q'], { cwd: path.join(root, 'modal') }) !== 0) failures.push('pytest');

if (failures.length > 0) {
  console.error(`\nFailed: ${failures.join(', ')}`);
  process.exit(1);
}
console.log('\nAll test suites passed.');
