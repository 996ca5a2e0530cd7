import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { median, round, ROOT, type BenchResult } from './common.js';

const TARGET_MS = 2_000;
const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 10;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts `node --import tsx server/main.ts` and returns the milliseconds until /readyz responds with 200. */
async function timeStart(dataDir: string): Promise<number> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, TUNEDECK_DATA_DIR: dataDir, PORT: String(port), TUNEDECK_HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });

  try {
    for (;;) {
      if (exited) throw new Error(`server exited before /readyz responded with 200: ${stderr.slice(-500)}`);
      if (performance.now() - started > READY_TIMEOUT_MS) throw new Error(`/readyz did not respond with 200 within ${READY_TIMEOUT_MS} ms: ${stderr.slice(-500)}`);
      const status = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((response) => response.status)
        .catch(() => 0);
      if (status === 200) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  } finally {
    if (!exited) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
}

export async function benchStartup(rounds: number): Promise<BenchResult> {
  const fresh: number[] = [];
  const again: number[] = [];
  for (let index = 0; index < rounds; index++) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-bench-start-'));
    try {
      fresh.push(await timeStart(dataDir));
      again.push(await timeStart(dataDir));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  // The floor: starting Node.js with the tsx loader and nothing else.
  const bare: number[] = [];
  for (let index = 0; index < rounds; index++) {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', '0'], { cwd: ROOT, stdio: 'ignore' });
    await once(child, 'exit');
    bare.push(performance.now() - started);
  }

  const entry = (name: string, runs: number[]) => ({
    name,
    value: round(median(runs), 0),
    unit: 'ms',
    baseline: { name: 'node --import tsx -e 0', value: round(median(bare), 0) },
    ratio: round(median(bare) / median(runs), 3),
    target: `<= ${TARGET_MS.toLocaleString('en-US')} ms`,
    met: median(runs) <= TARGET_MS,
    runs: runs.map((value) => round(value, 0)),
  });
  return {
    title: 'Start-up',
    command: 'npm run bench -- startup',
    measurements: [entry('first start, fresh data folder (migrations applied)', fresh), entry('second start, same data folder', again)],
    notes: [
      `Time from spawning \`node --import tsx server/main.ts\` to the first 200 from /readyz, polled every ${POLL_INTERVAL_MS} ms; embedded PGlite; ${rounds} rounds, each with a new data folder.`,
    ],
  };
}
