import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestApp, type TestApp } from '../helpers/app.js';
import { databaseId, ensureWebBuild, launchBrowser, SAMPLES_DIR, screenshot, TINY_TRAINING } from './support.js';

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

async function launchJob(name: string, datasets: { path: string }[], maxStepsPerDataset: number): Promise<string> {
  const response = await gql(app.graphqlUrl, 'mutation Launch($input: LaunchJobInput!) { launchJob(input: $input) { __typename ... on LaunchJobSuccess { data { job { id } } } } }', {
    input: {
      name,
      executor: 'LOCAL',
      modelName: 'tunedeck/tiny-gpt-oss',
      maxSeqLength: 512,
      training: { ...TINY_TRAINING, maxStepsPerDataset },
      datasets: datasets.map((dataset, index) => ({ source: 'LOCAL', path: dataset.path, priority: index + 1 })),
    },
  });
  const id = response.data?.launchJob?.data?.job?.id;
  if (!id) throw new Error(`launchJob failed: ${JSON.stringify(response)}`);
  return databaseId(id);
}

describe('job controls', () => {
  it('retry of failed dataset opens new job', { timeout: 120_000 }, async () => {
    // A CSV whose columns match no row shape passes launch and fails in the pipeline.
    const unknownShape = path.join(await mkdtemp(path.join(os.tmpdir(), 'tunedeck-shape-')), 'unknown.csv');
    await writeFile(unknownShape, 'city,rating\nLisbon,5\n');
    const jobId = await launchJob('unknown-shape', [{ path: unknownShape }], 10);
    const page = await browser.newPage();
    await page.goto(`${app.url}/#/jobs/${jobId}`);

    await page.locator('.job-actions [data-status="FAILED"]').waitFor({ timeout: 90_000 });
    const run = page.locator('li.run[data-run-position="1"]');
    await run.locator('[data-status="FAILED"]').waitFor();
    expect(await run.locator('.run-error').textContent()).not.toBe('');
    expect(await page.getByRole('button', { name: 'Cancel job' }).isDisabled()).toBe(true);
    await screenshot(page, 'job-failed');

    await run.getByRole('button', { name: 'Retry this dataset' }).click();
    await page.waitForURL((url) => !url.hash.endsWith(jobId) && url.hash.startsWith('#/jobs/'));
    const retryId = databaseId(decodeURIComponent(page.url().split('#/jobs/')[1]));
    expect(retryId).not.toBe(jobId);
    await page.locator('.job-head h1').waitFor();
    const retried = await gql(app.graphqlUrl, 'query Retried($id: ID!) { job(id: $id) { retryOfJobId } }', { id: retryId });
    expect(databaseId(String(retried.data?.job?.retryOfJobId))).toBe(jobId);
    await page.close();
  });

  it('cancel stops a running job', { timeout: 150_000 }, async () => {
    const jobId = await launchJob('cancel-me', [{ path: `${SAMPLES_DIR}/transcripts.csv` }], 2_000);
    const page = await browser.newPage();
    await page.goto(`${app.url}/#/jobs/${jobId}`);
    const cancel = page.getByRole('button', { name: 'Cancel job' });

    await page.locator('.job-actions [data-status="RUNNING"]').waitFor({ timeout: 60_000 });
    expect(await cancel.isEnabled()).toBe(true);
    await cancel.click();

    await page.locator('.job-actions [data-status="CANCELLED"]').waitFor({ timeout: 90_000 });
    expect(await page.locator('.job-actions button.danger').isDisabled()).toBe(true);
    const stored = await gql(app.graphqlUrl, 'query Cancelled($id: ID!) { job(id: $id) { status } }', { id: jobId });
    expect(stored.data?.job?.status).toBe('CANCELLED');
    await page.close();
  });
});
