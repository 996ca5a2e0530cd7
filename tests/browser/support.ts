import { execFile } from 'node:child_process';
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const WEB = path.join(ROOT, 'web');
const DIST_INDEX = path.join(WEB, 'dist', 'index.html');
/** Held while one test file builds the bundle, so parallel files never build into web/dist at once. */
const BUILD_LOCK = path.join(ROOT, 'node_modules', '.cache', 'tunedeck-web-build.lock');
export const SCREENSHOT_DIR = path.join(ROOT, 'test-results', 'screenshots');
export const SAMPLES_DIR = path.join(ROOT, 'modal', 'samples');

/** Chromium from the system package; tests never download a browser. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function newestMtime(target: string): Promise<number> {
  const info = await stat(target);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(target)) {
    if (entry === 'dist') continue;
    newest = Math.max(newest, await newestMtime(path.join(target, entry)));
  }
  return newest;
}

async function bundleIsFresh(): Promise<boolean> {
  try {
    return (await stat(DIST_INDEX)).mtimeMs >= (await newestMtime(WEB));
  } catch {
    return false;
  }
}

/** Runs `vite build` unless web/dist is newer than every file in web/. */
export async function ensureWebBuild(): Promise<void> {
  await mkdir(path.dirname(BUILD_LOCK), { recursive: true });
  for (;;) {
    try {
      await mkdir(BUILD_LOCK);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    if (await bundleIsFresh()) return;
    await promisify(execFile)('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT });
  } finally {
    await rmdir(BUILD_LOCK);
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Names of GraphQL operations the page POSTs, in order; the urql fetch body carries `operationName`. */
export function recordOperations(page: Page): string[] {
  const operations: string[] = [];
  page.on('request', (request) => {
    if (!request.url().endsWith('/graphql') || request.method() !== 'POST') return;
    try {
      operations.push(String(JSON.parse(request.postData() ?? '{}').operationName));
    } catch {
      operations.push('unparsable');
    }
  });
  return operations;
}

/** Text of the error shown next to the form field with this path, such as `training.learningRate`. */
export async function fieldError(page: Page, fieldPath: string): Promise<string> {
  return (await page.locator(`[data-error-for="${fieldPath}"]`).textContent())?.trim() ?? '';
}

export function control(page: Page, fieldPath: string) {
  return page.locator(`[name="${fieldPath}"]`);
}

/** Database id inside a Relay global id (base64 of `Type:id`); other ids pass through. */
export function databaseId(id: string): string {
  const decoded = Buffer.from(id, 'base64').toString('utf8');
  const match = /^[A-Z][A-Za-z]+:(.+)$/.exec(decoded);
  return match ? match[1] : id;
}

/** Training settings small enough for the tiny CPU model: one dataset takes seconds on two CPU cores. */
export const TINY_TRAINING = { maxStepsPerDataset: 12, warmupSteps: 2, checkpointEvery: 6, batchSize: 2, gradientAccumulationSteps: 1 };

/** Keys `run|split|step` of every metric point the server stored for a job, as the chart table writes them. */
export async function serverMetricKeys(graphqlUrl: string, jobId: string): Promise<string[]> {
  const { gql } = await import('../helpers/app.js');
  const response = await gql<{ job: { metrics: { edges: { node: { runId: string; split: string; step: number } }[] } } }>(
    graphqlUrl,
    'query StoredMetrics($id: ID!) { job(id: $id) { metrics(first: 5000) { edges { node { runId split step } } } } }',
    { id: jobId },
  );
  if (!response.data) throw new Error(`StoredMetrics failed: ${JSON.stringify(response.errors)}`);
  return response.data.job.metrics.edges.map(({ node }) => `${databaseId(node.runId)}|${node.split}|${node.step}`);
}

/**
 * Waits until the page renders exactly the points the server stored, and returns both sorted.
 * jobUpdated can report SUCCEEDED a moment before jobEvents delivers the last points, so this polls.
 */
export async function settledMetricKeys(page: Page, graphqlUrl: string, jobId: string): Promise<{ rendered: string[]; stored: string[] }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stored = (await serverMetricKeys(graphqlUrl, jobId)).sort();
    const rendered = (await renderedMetricKeys(page)).sort();
    if (JSON.stringify(rendered) === JSON.stringify(stored) || Date.now() > deadline) return { rendered, stored };
    await page.waitForTimeout(250);
  }
}

/** Opens the chart's table and returns the keys of the points the page renders. */
export async function renderedMetricKeys(page: Page): Promise<string[]> {
  const details = page.locator('details.chart-table');
  if (!(await details.evaluate((element) => (element as HTMLDetailsElement).open))) await details.locator('summary').click();
  // The table renders on the details element's toggle event, which fires after the click.
  await page.locator('.loss-table').waitFor({ state: 'attached' });
  return page.locator('.loss-table tbody tr').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.key ?? ''));
}
