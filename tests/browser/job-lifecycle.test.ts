import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { control, databaseId, ensureWebBuild, launchBrowser, SAMPLES_DIR, screenshot, settledMetricKeys, TINY_TRAINING } from './support.js';

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

/** Fills the launch form for a two-dataset job of the tiny model on the local executor. */
async function fillTinyJob(page: Page, name: string): Promise<void> {
  await page.locator('[name="gpu.type"] option[value="L40S"]').waitFor({ state: 'attached' });
  await control(page, 'name').fill(name);
  await control(page, 'modelName').fill('tunedeck/tiny-gpt-oss');
  await control(page, 'maxSeqLength').fill('512');
  await control(page, 'executor').selectOption('LOCAL');
  await control(page, 'training.maxStepsPerDataset').fill(String(TINY_TRAINING.maxStepsPerDataset));
  await control(page, 'training.warmupSteps').fill(String(TINY_TRAINING.warmupSteps));
  await control(page, 'training.checkpointEvery').fill(String(TINY_TRAINING.checkpointEvery));
  await control(page, 'training.batchSize').selectOption(String(TINY_TRAINING.batchSize));
  await control(page, 'training.gradientAccumulationSteps').fill(String(TINY_TRAINING.gradientAccumulationSteps));
  const files = [
    ['travel_conversations.csv', 'Travel conversations sample'],
    ['qa_quality.csv', 'Travel QA sample'],
  ];
  for (const [index, [file, description]] of files.entries()) {
    await control(page, `datasets[${index}].source`).selectOption('LOCAL');
    await control(page, `datasets[${index}].path`).fill(path.join(SAMPLES_DIR, file));
    await control(page, `datasets[${index}].description`).fill(description);
  }
}

async function trainPoints(page: Page): Promise<number> {
  return Number((await page.locator('section.chart').getAttribute('data-train-points')) ?? 0);
}

describe('job lifecycle', () => {
  it('two-dataset job through deployment', { timeout: 420_000 }, async () => {
    // A second page keeps the jobs list open; the job must appear and finish there without a reload.
    const listPage = await browser.newPage({ viewport: { width: 1280, height: 700 } });
    await listPage.goto(`${app.url}/#/jobs`);
    await listPage.getByText('No jobs yet').waitFor();

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${app.url}/#/launch`);
    await fillTinyJob(page, 'browser-e2e');
    await page.locator('[data-estimate="cost"]').waitFor();
    await screenshot(page, 'launch-form');

    await page.getByRole('button', { name: 'Launch job' }).click();
    await page.waitForURL(/#\/jobs\/[^/]+$/);
    const jobId = databaseId(decodeURIComponent(page.url().split('#/jobs/')[1]));
    await page.locator('section.chart').waitFor();

    // Training advances: the chart gains points and the overall progress moves past 0.
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('section.chart')?.dataset.trainPoints) >= 2, undefined, { timeout: 180_000 });
    const pointsEarly = await trainPoints(page);
    expect(await page.locator('section.chart canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('dataset-counter').textContent()).toMatch(/Dataset [12] of 2/);
    await screenshot(page, 'job-running');
    await page.waitForFunction((before) => Number(document.querySelector<HTMLElement>('section.chart')?.dataset.trainPoints) > before, pointsEarly, { timeout: 120_000 });

    await page.locator('.job-actions [data-status="SUCCEEDED"]').waitFor({ timeout: 240_000 });
    expect(await page.getByTestId('dataset-counter').textContent()).toBe('All 2 datasets ended');
    expect(await page.locator('li.run[data-run-status="SUCCEEDED"]').count()).toBe(2);
    expect(await page.getByRole('button', { name: 'Cancel job' }).isDisabled()).toBe(true);
    expect(await page.locator('.card progress').first().getAttribute('value')).toBe('100.0');
    expect(await page.locator('[data-metric="trainLoss"]').textContent()).not.toBe('—');
    expect(await page.locator('.log-line').count()).toBeGreaterThan(0);
    await page.locator('#log-level').selectOption('warning');
    const levels = await page.locator('.log-line .log-level').allTextContents();
    expect(levels.filter((level) => level !== 'WARNING' && level !== 'ERROR')).toEqual([]);
    const [logResponse, download] = await Promise.all([
      page.waitForResponse((response) => response.url().includes('/logs?')),
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download logs' }).click(),
    ]);
    expect(new URL(logResponse.url()).searchParams.get('level')).toBe('warning');
    expect(logResponse.status()).toBe(200);
    expect(download.suggestedFilename()).toBe(`tunedeck-${jobId}.log`);
    await page.locator('#log-level').selectOption('debug');
    expect(await page.locator('.log-line').count()).toBeGreaterThan(levels.length);
    await page.locator('.job-message .notice').waitFor();
    const { rendered, stored } = await settledMetricKeys(page, app.graphqlUrl, jobId);
    expect(stored.length).toBeGreaterThan(0);
    expect(rendered).toEqual(stored);
    await page.locator('li.run').first().locator('summary').click();
    expect(await page.locator('li.run').first().locator('.report dl').textContent()).toContain('Rows kept');
    await screenshot(page, 'job-succeeded');

    const row = listPage.locator(`tr[data-job-id="${jobId}"]`);
    await row.locator('[data-status="SUCCEEDED"]').waitFor({ timeout: 10_000 });
    expect(await row.locator('a').textContent()).toBe('browser-e2e');
    await screenshot(listPage, 'jobs-list');
    await listPage.locator('#jobs-filter').selectOption('FAILED');
    await listPage.getByText('No failed jobs.').waitFor();
    await listPage.locator('#jobs-filter').selectOption('SUCCEEDED');
    await row.waitFor();
    expect(await listPage.locator('tbody tr').count()).toBe(1);
    await listPage.close();

    await page.goto(`${app.url}/#/models`);
    const card = page.locator('.model-card[data-model-name="browser-e2e"]');
    await card.waitFor();
    expect(await card.locator('[data-metric="finalTrainLoss"]').textContent()).not.toBe('—');
    await screenshot(page, 'models');

    // Verification enables Deploy; the local runtime serves the merged tiny model.
    const deploy = card.getByRole('button', { name: 'Deploy', exact: true });
    await card.locator('[data-status="DEPLOYABLE"]').waitFor({ timeout: 120_000 });
    await deploy.click();
    await card.locator('[data-status="READY"]').waitFor({ timeout: 120_000 });
    expect(await card.locator('.endpoint code').textContent()).toMatch(/^http/);
    expect(await card.getByRole('button', { name: 'Delete' }).isDisabled()).toBe(true);
    await card.getByRole('button', { name: 'Test', exact: true }).click();
    await card.getByLabel('Prompt').fill('What should I eat in Lisbon?');
    await card.getByRole('button', { name: 'Send prompt' }).click();
    await card.locator('.completion .answer').waitFor({ timeout: 60_000 });
    expect(await card.locator('.completion h3').first().textContent()).toMatch(/Fine-tuned · \d+ ms/);
    await screenshot(page, 'model-deployed');

    await card.getByRole('button', { name: 'Undeploy' }).click();
    await card.getByText('not deployed').or(card.locator('[data-status="STOPPED"]')).first().waitFor({ timeout: 60_000 });
    page.once('dialog', (dialog) => void dialog.accept());
    await card.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No models yet').waitFor();

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${app.url}/#/jobs/${jobId}`);
    await page.locator('.job-actions [data-status="SUCCEEDED"]').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'job-phone');
    await page.close();
  });
});
