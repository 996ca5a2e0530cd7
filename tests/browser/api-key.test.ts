import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestApp, type TestApp } from '../helpers/app.js';
import { LAUNCH, tinyJobInput } from '../helpers/jobs.js';
import { databaseId, ensureWebBuild, launchBrowser, screenshot } from './support.js';

let app: TestApp;
let browser: Browser;
let secret: string;
let jobId: string;

beforeAll(async () => {
  await ensureWebBuild();
  // No orchestrator: the launched job stays QUEUED, which is all the list needs.
  app = await startTestApp({ orchestrate: false });
  const access = app.app.services.access;
  secret = (await access.keys.create('dashboard', ['read', 'write'])).secret;
  access.keyCreated();
  const launched = await gql(app.graphqlUrl, LAUNCH, { input: tinyJobInput({ name: 'keyed-job' }) }, { authorization: `Bearer ${secret}` });
  const id = launched.data?.launchJob?.data?.job?.id;
  if (!id) throw new Error(`launchJob failed: ${JSON.stringify(launched)}`);
  jobId = databaseId(id);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe('dashboard with an API key', () => {
  it('moves from 401 to live after key entry', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const graphqlStatuses: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/graphql')) graphqlStatuses.push(response.status());
    });
    const initPayloads: unknown[] = [];
    page.on('websocket', (socket) => {
      socket.on('framesent', (frame) => {
        const message = JSON.parse(String(frame.payload));
        if (message.type === 'connection_init') initPayloads.push(message.payload ?? {});
      });
    });

    await page.goto(`${app.url}/#/jobs`);
    const banner = page.locator('.connection');
    await page.locator('.connection[data-state="unauthorized"]').waitFor({ timeout: 15_000 });
    expect(await banner.textContent()).toMatch(/API key missing, invalid or revoked/);
    await page.locator('.jobs-body .state-error').waitFor();
    expect(graphqlStatuses).toContain(401);
    await page.locator('details.api-key[open] #api-key-input').waitFor();
    expect(await page.locator('.api-key-message').textContent()).toMatch(/requires an API key/);
    await screenshot(page, 'api-key-required');

    await page.locator('#api-key-input').fill(secret);
    await page.locator('.api-key-form button[type="submit"]').click();
    await page.locator(`tr[data-job-id="${jobId}"]`).waitFor({ timeout: 15_000 });
    await page.locator('.connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    expect(await banner.textContent()).toBe('Connected');
    expect(initPayloads.at(-1)).toEqual({ authorization: `Bearer ${secret}` });
    expect(await page.evaluate(() => window.localStorage.getItem('tunedeck.apiKey'))).toBe(secret);
    expect(await page.locator('.api-key-status').textContent()).toBe('set');
    await screenshot(page, 'api-key-connected');

    // The log download is a fetch with the Authorization header, saved from a blob.
    await page.locator(`tr[data-job-id="${jobId}"] a`).click();
    const downloadButton = page.locator('section.logs button', { hasText: 'Download logs' });
    await downloadButton.waitFor();
    await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('section.logs .section-head button')?.disabled);
    const [download] = await Promise.all([page.waitForEvent('download'), downloadButton.click()]);
    expect(download.suggestedFilename()).toBe(`tunedeck-${jobId}.log`);
    expect(await page.locator('section.logs .state-error').isVisible()).toBe(false);

    await page.locator('details.api-key summary').click();
    await page.locator('.api-key-clear').click();
    await page.locator('.connection[data-state="unauthorized"]').waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => window.localStorage.getItem('tunedeck.apiKey'))).toBeNull();
    await context.close();
  });
});
