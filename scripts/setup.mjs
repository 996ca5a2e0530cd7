// Prepares a fresh clone for running and testing, skipping each step whose
// inputs have not changed since it last ran (stamps in .cache/setup/):
//   1. Prisma client and Pothos types from prisma/schema.prisma (offline)
//   2. the pipeline's Python environment in modal/.venv
//   3. the dashboard bundle in web/dist
// Flags: --no-python, --no-web.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const stampDir = path.join(root, '.cache', 'setup');
const args = new Set(process.argv.slice(2));

function hashFiles(files) {
  const hash = createHash('sha256');
  for (const file of files.sort()) {
    if (!existsSync(file)) continue;
    hash.update(path.relative(root, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

function listFiles(dir, filter = () => true) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : listFiles(full, filter);
    return filter(full) ? [full] : [];
  });
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`setup: \`${command} ${commandArgs.join(' ')}\` failed with exit code ${result.status}.`);
    process.exit(result.status ?? 1);
  }
}

function step(name, inputs, output, action) {
  const hash = hashFiles(inputs);
  const stamp = path.join(stampDir, `${name}.sha256`);
  const current = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
  if (current === hash && (!output || existsSync(output))) return;
  console.log(`setup: ${name}...`);
  action();
  mkdirSync(stampDir, { recursive: true });
  writeFileSync(stamp, hash);
}

// 1. Prisma generate needs no engine binary; pointing PRISMA_SCHEMA_ENGINE_BINARY at any
// existing file stops it from trying to download one.
step('prisma', [path.join(root, 'prisma', 'schema.prisma'), path.join(root, 'package-lock.json')], path.join(root, 'prisma', 'generated', 'client', 'client.ts'), () => {
  run(process.execPath, [path.join(root, 'node_modules', 'prisma', 'build', 'index.js'), 'generate'], {
    env: { ...process.env, PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}`, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
});

// 2. The pipeline's virtual environment.
if (!args.has('--no-python')) {
  const venv = path.join(root, 'modal', '.venv');
  const requirements = path.join(root, 'modal', 'requirements-local.txt');
  if (existsSync(requirements)) {
    step('python', [requirements], path.join(venv, 'bin', 'python'), () => {
      const python = process.env.PYTHON ?? 'python3';
      if (!existsSync(path.join(venv, 'bin', 'python'))) run(python, ['-m', 'venv', venv]);
      run(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', requirements]);
    });
  }
}

// 3. The dashboard bundle.
if (!args.has('--no-web')) {
  const webRoot = path.join(root, 'web');
  if (existsSync(path.join(webRoot, 'index.html'))) {
    const inputs = listFiles(webRoot, (file) => !file.includes(`${path.sep}dist${path.sep}`));
    step('web', [...inputs, path.join(root, 'package-lock.json')], path.join(webRoot, 'dist', 'index.html'), () => {
      run(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(webRoot, 'vite.config.ts'), '--logLevel', 'warn']);
    });
  }
}


