import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../server/config.js';

const root = path.resolve(import.meta.dirname, '..');

/** Runs server/main.ts with the given environment until it exits or `until` matches its output. */
function runServer(env: Record<string, string>, until?: RegExp): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: root, env: { ...process.env, LOG_FORMAT: 'json', ...env } });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (until && until.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('configuration', () => {
  it('rejects a port that is not a number', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT="abc": must be a whole number from 0 to 65535/);
  });

  it('rejects a database URL of another scheme', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL="mysql:\/\/x": must start with postgres:\/\//);
  });

  it('rejects an unknown executor', () => {
    expect(() => loadConfig({ TUNEDECK_EXECUTOR: 'k8s' })).toThrow(/TUNEDECK_EXECUTOR="k8s"/);
  });

  it('rejects a GPU price table that is not JSON', () => {
    expect(() => loadConfig({ TUNEDECK_GPU_PRICES: '{H100: 3}' })).toThrow(/TUNEDECK_GPU_PRICES=.*must be a JSON object/);
  });

  it('merges GPU price overrides with the defaults', () => {
    const config = loadConfig({ TUNEDECK_GPU_PRICES: '{"H100": 2.5, "MI300X": 4}' });
    expect(config.gpuPrices.H100).toBe(2.5);
    expect(config.gpuPrices.MI300X).toBe(4);
    expect(config.gpuPrices.L40S).toBeGreaterThan(0);
  });

  it('lists every invalid variable at once', () => {
    expect(() => loadConfig({ PORT: '-1', LOG_LEVEL: 'loud' })).toThrow(/PORT="-1".*\n.*LOG_LEVEL="loud"/);
  });
});

describe('server start-up', () => {
  const folders: string[] = [];

  afterAll(async () => {
    for (const folder of folders) {
      await chmod(folder, 0o755).catch(() => {});
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('exits 2 with a message for port abc', async () => {
    const { code, output } = await runServer({ PORT: 'abc' });
    expect(code).toBe(2);
    expect(output).toMatch(/PORT="abc"/);
  });

  it('exits 1 for an unreachable database', async () => {
    const { code, output } = await runServer({ DATABASE_URL: 'postgres://tunedeck:secret@127.0.0.1:1/none' });
    expect(code).toBe(1);
    expect(output).toMatch(/Cannot reach PostgreSQL at postgres:\/\/tunedeck:\*\*\*@127.0.0.1:1\/none/);
    expect(output).not.toContain('secret');
  });

  // root writes through any permission, so this case only runs as another user.
  it.skipIf(process.getuid?.() === 0)('exits 1 for an unwritable data folder', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-readonly-'));
    folders.push(folder);
    await chmod(folder, 0o500);
    const { code, output } = await runServer({ TUNEDECK_DATA_DIR: path.join(folder, 'data') });
    expect(code).toBe(1);
    expect(output).toMatch(/Cannot write the data folder/);
  });

  it('exits 1 for a data folder that is a file', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-file-'));
    folders.push(folder);
    const file = path.join(folder, 'data');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'not a folder'));
    const { code, output } = await runServer({ TUNEDECK_DATA_DIR: file, PORT: '0' });
    expect(code).toBe(1);
    expect(output).toMatch(/Cannot write the data folder/);
    expect(output).toMatch(/TUNEDECK_DATA_DIR/);
  });

  it('starts, serves readiness and stops on SIGTERM', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-start-'));
    folders.push(folder);
    const { code, output } = await runServer({ TUNEDECK_DATA_DIR: folder, PORT: '0' }, /Tunedeck is listening/);
    expect(output).toMatch(/database migrations applied/);
    expect(output).toMatch(/server stopped/);
    expect(code).toBe(0);
  });
});
