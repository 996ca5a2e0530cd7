import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { median, round, ROOT, type BenchResult, type Measurement } from './common.js';

const TARGET_BUNDLE_KB = 150;
const TARGET_RENDER_MS = 100;
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

export interface DashboardOptions {
  points: number;
  rounds: number;
}

async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** Builds the dashboard into a temporary folder with its own Vite config, leaving web/dist alone. */
async function bundleSize(result: BenchResult): Promise<Measurement | null> {
  if (!existsSync(path.join(ROOT, 'web', 'vite.config.ts'))) {
    result.notes.push('Bundle size skipped: web/vite.config.ts does not exist.');
    return null;
  }
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-bench-web-'));
  try {
    await promisify(execFile)(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'web/vite.config.ts', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT });
    let raw = 0;
    let gzip = 0;
    const parts: string[] = [];
    for (const file of await listFiles(outDir)) {
      const bytes = await readFile(file);
      const compressed = gzipSync(bytes, { level: 9 }).length;
      raw += bytes.length;
      gzip += compressed;
      parts.push(`${path.relative(outDir, file)} ${round(compressed / 1024, 1)} KB`);
    }
    result.notes.push(`Bundle files, gzip level 9: ${parts.join(', ')}; ${round(raw / 1024, 1)} KB before compression.`);
    return {
      name: 'dashboard bundle, gzip (all files of the build)',
      value: round(gzip / 1024, 1),
      unit: 'KB',
      target: `<= ${TARGET_BUNDLE_KB} KB`,
      met: gzip / 1024 <= TARGET_BUNDLE_KB,
    };
  } catch (error) {
    result.notes.push(`Bundle size not measured: the dashboard build failed: ${String((error as { stderr?: string }).stderr ?? (error as Error).message).slice(0, 400)}`);
    return null;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** Serves a folder on 127.0.0.1, because module scripts do not load from file:// URLs. */
async function serveFolder(folder: string) {
  const server = createServer(async (request, response) => {
    const name = path.normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname)).replace(/^\/+/, '') || 'index.html';
    const file = path.join(folder, name);
    if (!file.startsWith(folder) || !(await stat(file).catch(() => null))?.isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    response.end(await readFile(file));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

async function chartRender(options: DashboardOptions, result: BenchResult): Promise<Measurement[]> {
  const { build } = await import('vite');
  const { chromium } = await import('playwright-core');
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'tunedeck-bench-chart-'));
  try {
    await build({ root: path.join(ROOT, 'bench', 'chart'), configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true, target: 'es2022' } });
  } catch (error) {
    await rm(outDir, { recursive: true, force: true });
    result.notes.push(`Chart render not measured: building bench/chart with the dashboard's LossChart failed: ${(error as Error).message.slice(0, 300)}`);
    return [];
  }

  const site = await serveFolder(outDir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const dashboard: number[] = [];
  const bare: number[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(site.url);
    await page.waitForFunction(() => 'renderDashboardChart' in window);
    // One warm-up of each, so JIT compilation is not part of the figure.
    await page.evaluate((count) => (window as any).renderDashboardChart(count), options.points);
    await page.evaluate((count) => (window as any).renderBareUplot(count), options.points);
    for (let index = 0; index < options.rounds; index++) {
      dashboard.push(await page.evaluate((count) => (window as any).renderDashboardChart(count) as Promise<number>, options.points));
      bare.push(await page.evaluate((count) => (window as any).renderBareUplot(count) as Promise<number>, options.points));
    }
  } finally {
    await browser.close();
    site.close();
    await rm(outDir, { recursive: true, force: true });
  }
  const version = (await promisify(execFile)(CHROMIUM, ['--version'])).stdout.trim();
  result.notes.push(
    `Chart render: ${version}, headless, software rendering, 1280x800 viewport. The dashboard's LossChart (web/src/views/job/chart.ts) receives ${options.points.toLocaleString('en-US')} points over two runs (every 100th step an eval point). The time runs from add() to the end of the animation frame that draws them, including the wait for that frame. The baseline draws the same number of points with uPlot directly, one series.`,
  );
  return [
    {
      name: `render ${options.points.toLocaleString('en-US')}-point loss chart (dashboard LossChart)`,
      value: round(median(dashboard), 1),
      unit: 'ms',
      baseline: { name: 'uPlot directly', value: round(median(bare), 1) },
      ratio: round(median(bare) / median(dashboard), 3),
      target: `<= ${TARGET_RENDER_MS} ms`,
      met: median(dashboard) <= TARGET_RENDER_MS,
      runs: dashboard.map((value) => round(value, 1)),
    },
  ];
}

export async function benchDashboard(options: DashboardOptions): Promise<BenchResult> {
  const result: BenchResult = { title: 'Dashboard', command: 'npm run bench -- dashboard', measurements: [], notes: [] };
  const size = await bundleSize(result);
  if (size) result.measurements.push(size);
  result.measurements.push(...(await chartRender(options, result)));
  return result;
}
