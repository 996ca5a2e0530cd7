import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { control, ensureWebBuild, fieldError, launchBrowser, recordOperations, screenshot } from './support.js';

let app: TestApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await ensureWebBuild();
  app = await startTestApp();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function openForm(): Promise<string[]> {
  page = await browser.newPage();
  const operations = recordOperations(page);
  await page.goto(`${app.url}/#/launch`);
  // The GPU select is filled from the gpuTypes query; the first estimate follows it.
  await page.locator('[name="gpu.type"] option[value="L40S"]').waitFor({ state: 'attached' });
  await page.locator('[data-estimate="duration"]').waitFor();
  return operations;
}

describe('launch form', () => {
  it('shows range errors without a request', async () => {
    const operations = await openForm();
    const before = operations.length;

    await control(page, 'training.learningRate').fill('0.5');
    await control(page, 'training.maxStepsPerDataset').fill('5');
    await control(page, 'training.loraAlpha').fill('200');
    await control(page, 'maxSeqLength').fill('100');
    await control(page, 'gpu.timeoutHours').fill('30');
    await control(page, 'datasets[1].priority').fill('1');
    await control(page, 'datasets[0].trainSplit').fill('1');
    await control(page, 'datasets[0].source').selectOption('LOCAL');
    await control(page, 'datasets[0].path').fill('relative/data.csv');
    await page.getByRole('button', { name: 'Launch job' }).click();
    // Longer than the estimate debounce, so a request that was going to happen has happened.
    await page.waitForTimeout(1_000);

    expect(await fieldError(page, 'training.learningRate')).toContain('0.00001 to 0.01');
    expect(await fieldError(page, 'training.maxStepsPerDataset')).toContain('10 to 10000');
    expect(await fieldError(page, 'training.warmupSteps')).toContain('below the steps per dataset');
    expect(await fieldError(page, 'training.loraAlpha')).toContain('8 to 128');
    expect(await fieldError(page, 'maxSeqLength')).toContain('512 to 4096');
    expect(await fieldError(page, 'gpu.timeoutHours')).toContain('2 to 24');
    expect(await fieldError(page, 'datasets[1].priority')).toContain('already used by dataset 1');
    expect(await fieldError(page, 'datasets[0].trainSplit')).toContain('strictly between 0 and 1');
    expect(await fieldError(page, 'datasets[0].path')).toContain('absolute path');
    expect(await control(page, 'training.learningRate').getAttribute('aria-invalid')).toBe('true');
    expect(operations.slice(before)).toEqual([]);
    expect(page.url()).toContain('#/launch');
    await screenshot(page, 'launch-form-errors');

    // Fixing the values clears the errors and the estimate request goes out again.
    await control(page, 'training.learningRate').fill('0.0002');
    await control(page, 'training.maxStepsPerDataset').fill('200');
    await control(page, 'training.loraAlpha').fill('32');
    await control(page, 'maxSeqLength').fill('1024');
    await control(page, 'gpu.timeoutHours').fill('6');
    await control(page, 'datasets[1].priority').fill('2');
    await control(page, 'datasets[0].trainSplit').fill('0.8');
    await control(page, 'datasets[0].path').fill('/data/travel.csv');
    await page.locator('[data-estimate="duration"]').waitFor();
    expect(await page.locator('.field-error:not(:empty)').count()).toBe(0);
    expect(operations.slice(before)).toContain('EstimateJob');
    await page.close();
  });

  it('places a server field error by its path', async () => {
    const operations = await openForm();

    // A GPU type the server does not offer, sent as if the select had offered it.
    await page.evaluate(() => {
      const gpu = document.querySelector<HTMLSelectElement>('select[name="gpu.type"]')!;
      gpu.append(new Option('Z9000', 'Z9000'));
      gpu.value = 'Z9000';
      gpu.dispatchEvent(new Event('change', { bubbles: true }));
    });
    // Submit from the keyboard: Enter in a text field submits the form.
    await control(page, 'name').press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-error-for="gpu.type"]')?.textContent?.includes('gpu.type must be one of'));

    expect(operations).toContain('LaunchJob');
    expect(await fieldError(page, 'gpu.type')).toContain('Z9000');
    expect(await control(page, 'gpu.type').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => (document.activeElement as HTMLSelectElement | null)?.name)).toBe('gpu.type');
    expect(await page.locator('.field-error:not(:empty)').count()).toBe(1);
    expect(page.url()).toContain('#/launch');
    await screenshot(page, 'launch-form-server-error');
    await page.close();
  });

  it('adds, reorders and removes datasets', async () => {
    await openForm();

    await page.getByRole('button', { name: 'Add dataset' }).click();
    expect(await page.locator('.dataset-item').count()).toBe(3);
    expect(await control(page, 'datasets[2].priority').inputValue()).toBe('3');
    await control(page, 'datasets[2].path').fill('/data/third.csv');
    await page.getByRole('button', { name: 'Move dataset 3 up' }).click();
    expect(await control(page, 'datasets[1].path').inputValue()).toBe('/data/third.csv');
    expect(await control(page, 'datasets[1].priority').inputValue()).toBe('2');
    expect(await control(page, 'datasets[2].priority').inputValue()).toBe('3');
    await page.getByRole('button', { name: 'Remove dataset 2' }).click();
    expect(await page.locator('.dataset-item').count()).toBe(2);
    expect(await control(page, 'datasets[1].file').inputValue()).toBe('travel_QA_processed_with_topic.csv');
    await page.close();
  });
});
