import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { databaseId, ensureWebBuild, launchBrowser, renderedMetricKeys, SAMPLES_DIR, screenshot, serverMetricKeys, settledMetricKeys, TINY_TRAINING } from './support.js';

let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  await ensureWebBuild();
  app = await startTestApp();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

declare global {
  interface Window {
    testSockets: WebSocket[];
    blockSockets: boolean;
  }
}

async function launchTinyJob(): Promise<string> {
  const response = await gql(app.graphqlUrl, 'mutation Launch($input: LaunchJobInput!) { launchJob(input: $input) { __typename ... on LaunchJobSuccess { data { job { id } } } } }', {
    input: {
      name: 'reconnect',
      executor: 'LOCAL',
      modelName: 'tunedeck/tiny-gpt-oss',
      maxSeqLength: 512,
      training: { ...TINY_TRAINING, maxStepsPerDataset: 20 },
      datasets: [{ source: 'LOCAL', path: `${SAMPLES_DIR}/transcripts.csv`, priority: 1 }],
    },
  });
  const id = response.data?.launchJob?.data?.job?.id;
  if (!id) throw new Error(`launchJob failed: ${JSON.stringify(response)}`);
  return databaseId(id);
}

describe('job view reconnect', () => {
  it('chart has no gap after reconnect', { timeout: 300_000 }, async () => {
    const jobId = await launchTinyJob();
    const context = await browser.newContext();
    const page = await context.newPage();
    // Track the page's sockets, and while `blockSockets` is set point new ones at a closed port,
    // so the outage lasts until the test ends it whatever the browser's offline emulation does.
    await page.addInitScript(() => {
      const NativeWebSocket = window.WebSocket;
      window.testSockets = [];
      window.blockSockets = false;
      window.WebSocket = class extends NativeWebSocket {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(window.blockSockets ? 'ws://127.0.0.1:9/' : url, protocols);
          window.testSockets.push(this);
        }
      };
    });
    const subscribeFrames: { afterSeq: number; at: number }[] = [];
    page.on('websocket', (socket) => {
      socket.on('framesent', (frame) => {
        const message = JSON.parse(String(frame.payload));
        if (message.type === 'subscribe' && message.payload?.operationName === 'JobEvents') subscribeFrames.push({ afterSeq: message.payload.variables.afterSeq, at: Date.now() });
      });
    });

    await page.goto(`${app.url}/#/jobs/${jobId}`);
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('section.chart')?.dataset.trainPoints) >= 1, undefined, { timeout: 180_000 });
    await page.locator('.connection[data-state="connected"]').waitFor();

    await page.evaluate(() => {
      window.blockSockets = true;
      for (const socket of window.testSockets) socket.close(3000, 'dropped by test');
    });
    await context.setOffline(true);
    await page.locator('.connection[data-state="offline"], .connection[data-state="reconnecting"]').waitFor();
    const droppedAt = Date.now();
    const seqAtDrop = Number(await page.locator('main').getAttribute('data-last-seq'));
    const renderedAtDrop = (await renderedMetricKeys(page)).length;
    await screenshot(page, 'job-offline');

    // Training goes on while the page is cut off: wait until the server stores points the page lacks.
    await waitFor(async () => (await serverMetricKeys(app.graphqlUrl, jobId)).length >= renderedAtDrop + 3, { timeoutMs: 120_000, intervalMs: 250, message: 'metrics stored during the outage' });
    expect((await renderedMetricKeys(page)).length).toBe(renderedAtDrop);

    await context.setOffline(false);
    await page.evaluate(() => {
      window.blockSockets = false;
    });
    await page.locator('.connection[data-state="connected"]').waitFor({ timeout: 30_000 });
    const resumed = subscribeFrames.filter((frame) => frame.at > droppedAt);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed.at(-1)!.afterSeq).toBeGreaterThanOrEqual(seqAtDrop);
    expect(resumed.at(-1)!.afterSeq).toBeGreaterThan(0);

    await page.locator('.job-actions [data-status="SUCCEEDED"]').waitFor({ timeout: 240_000 });
    const { rendered, stored } = await settledMetricKeys(page, app.graphqlUrl, jobId);
    expect(rendered.length).toBe(new Set(rendered).size);
    expect(rendered).toEqual(stored);
    await screenshot(page, 'job-after-reconnect');
    await context.close();
  });
});
