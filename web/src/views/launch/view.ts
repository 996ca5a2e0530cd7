import { client } from '../../client.js';
import { h, replaceChildren } from '../../dom.js';
import { formatUsd } from '../../format.js';
import type { EstimateViewFragment } from '../../gql/graphql.js';
import { navigate, type View } from '../../router.js';
import { DatasetList, defaultDatasets } from './datasets.js';
import { checkbox, field, numberInput, readChecked, readNumber, readText, section, select, showFieldErrors, textInput } from './fields.js';
import { DEFAULTS, LIMITS, MODEL_CHOICES } from './limits.js';
import { EstimateJobQuery, GpuTypesQuery, LaunchJobMutation } from './operations.js';
import { toLaunchInput, validateForm, type FieldErrors, type FormValues } from './validate.js';

const BATCH_SIZE_LABELS: Record<number, string> = { 1: '1 (least memory)', 4: '4 (recommended)' };

/** Wait after the last change before asking the server for an estimate. */
const ESTIMATE_DEBOUNCE_MS = 400;

function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Launch form: every job setting, checked in the browser, with a live estimate. */
export const launchView: View = (container) => {
  const form = h('form', { class: 'launch-form', novalidate: true, 'aria-labelledby': 'launch-title' });
  const summary = h('div', { class: 'form-summary', role: 'alert' });
  const estimatePanel = h('aside', { class: 'estimate', 'aria-live': 'polite', 'aria-label': 'Estimate' });
  const submitButton = h('button', { type: 'submit', class: 'primary' }, 'Launch job');
  const gpuSelect = select([{ value: DEFAULTS.gpu.type, label: `${DEFAULTS.gpu.type} (loading prices…)` }], DEFAULTS.gpu.type);
  const gpuStatus = h('small', { class: 'hint', 'aria-live': 'polite' });
  const datasets = new DatasetList(form, () => onFormChange());
  let serverErrors: FieldErrors = new Map();
  let idempotencyKey = newIdempotencyKey();
  let estimateTimer: ReturnType<typeof setTimeout> | undefined;
  let estimateRequest = 0;
  let disposed = false;

  form.append(
    h('h1', { id: 'launch-title' }, 'Launch a fine-tuning job'),
    summary,
    section(
      'Model',
      field('name', 'Model name to register', textInput('', { placeholder: 'travel-assistant', autocomplete: 'off' }), 'Versions are counted per name.'),
      field('modelName', 'Base model', textInput(DEFAULTS.modelName, { list: 'model-choices', autocomplete: 'off' })),
      h('datalist', { id: 'model-choices' }, MODEL_CHOICES.map((choice) => h('option', { value: choice.value }, choice.label))),
      h(
        'div',
        { class: 'field-row' },
        field('maxSeqLength', 'Max sequence length', numberInput(DEFAULTS.maxSeqLength, { min: LIMITS.maxSeqLength.min, max: LIMITS.maxSeqLength.max, step: 1 }), '512-4096 tokens.'),
        field('reasoningEffort', 'Reasoning effort', select([{ value: 'LOW', label: 'Low' }, { value: 'MEDIUM', label: 'Medium' }, { value: 'HIGH', label: 'High' }], 'LOW')),
      ),
    ),
    section(
      'Datasets (trained one after another)',
      datasets.element,
      h('p', { class: 'field-error', 'data-error-for': 'datasets', 'aria-live': 'polite' }),
      h('button', { type: 'button', onclick: () => datasets.add() }, 'Add dataset'),
      h(
        'div',
        { class: 'field-row' },
        field('queue.continueOnFailure', 'Continue with the next dataset if one fails', checkbox(false)),
        field('queue.mergeAdapters', 'Merge the adapter into the base weights', checkbox(true)),
        field('training.saveCheckpointBetweenDatasets', 'Keep each dataset’s adapter as a checkpoint', checkbox(true)),
        field('training.evalEnabled', 'Evaluate after each dataset', checkbox(true)),
      ),
    ),
    section(
      'Training',
      h(
        'div',
        { class: 'field-row' },
        field('training.maxStepsPerDataset', 'Steps per dataset', numberInput(DEFAULTS.training.maxStepsPerDataset, { min: LIMITS.maxSteps.min, max: LIMITS.maxSteps.max, step: 1 }), '10-10,000.'),
        field('training.learningRate', 'Learning rate', numberInput(DEFAULTS.training.learningRate, { min: LIMITS.learningRate.min, max: LIMITS.learningRate.max, step: 'any' }), '0.00001-0.01.'),
        field('training.batchSize', 'Batch size', select(LIMITS.batchSizes.map((size) => ({ value: String(size), label: BATCH_SIZE_LABELS[size] ?? String(size) })), String(DEFAULTS.training.batchSize))),
        field('training.gradientAccumulationSteps', 'Gradient accumulation', numberInput(DEFAULTS.training.gradientAccumulationSteps, { min: 1, max: 64, step: 1 }), '1-64 steps.'),
        field('training.warmupSteps', 'Warmup steps', numberInput(DEFAULTS.training.warmupSteps, { min: 0, step: 1 }), 'Below steps per dataset.'),
        field('training.checkpointEvery', 'Checkpoint every', numberInput(DEFAULTS.training.checkpointEvery, { min: 1, step: 1 }), 'Steps.'),
      ),
    ),
    section(
      'LoRA',
      h(
        'div',
        { class: 'field-row' },
        field('training.loraRank', 'Rank', select(LIMITS.loraRanks.map((rank) => ({ value: String(rank), label: rank === 16 ? '16 (balanced)' : String(rank) })), String(DEFAULTS.training.loraRank))),
        field('training.loraAlpha', 'Alpha', numberInput(DEFAULTS.training.loraAlpha, { min: LIMITS.loraAlpha.min, max: LIMITS.loraAlpha.max, step: 1 }), '8-128.'),
        field('training.loraDropout', 'Dropout', numberInput(DEFAULTS.training.loraDropout, { min: 0, max: 0.5, step: 0.05 }), '0-0.5.'),
      ),
    ),
    section(
      'Compute',
      h(
        'div',
        { class: 'field-row' },
        field('executor', 'Executor', select([{ value: '', label: 'Server default' }, { value: 'MODAL', label: 'Modal (cloud GPU)' }, { value: 'LOCAL', label: 'Local (this machine)' }], '')),
        h('div', {}, field('gpu.type', 'GPU type', gpuSelect), gpuStatus),
        field('gpu.count', 'GPU count', numberInput(DEFAULTS.gpu.count, { min: 1, max: 8, step: 1 }), '1-8.'),
        field('gpu.timeoutHours', 'Timeout (hours)', numberInput(DEFAULTS.gpu.timeoutHours, { min: LIMITS.timeoutHours.min, max: LIMITS.timeoutHours.max, step: 1 }), '2-24 hours per run.'),
      ),
    ),
    h('div', { class: 'form-actions' }, submitButton),
  );
  datasets.render(defaultDatasets());
  replaceChildren(container, h('div', { class: 'launch-layout' }, form, estimatePanel));

  function readValues(): FormValues {
    const executor = readText(form, 'executor');
    const effort = readText(form, 'reasoningEffort');
    return {
      name: readText(form, 'name'),
      modelName: readText(form, 'modelName'),
      maxSeqLength: readNumber(form, 'maxSeqLength'),
      reasoningEffort: effort === 'HIGH' || effort === 'MEDIUM' ? effort : 'LOW',
      executor: executor === 'LOCAL' || executor === 'MODAL' ? executor : '',
      datasets: datasets.read(),
      training: {
        maxStepsPerDataset: readNumber(form, 'training.maxStepsPerDataset'),
        learningRate: readNumber(form, 'training.learningRate'),
        batchSize: readNumber(form, 'training.batchSize'),
        gradientAccumulationSteps: readNumber(form, 'training.gradientAccumulationSteps'),
        warmupSteps: readNumber(form, 'training.warmupSteps'),
        loraRank: readNumber(form, 'training.loraRank'),
        loraAlpha: readNumber(form, 'training.loraAlpha'),
        loraDropout: readNumber(form, 'training.loraDropout'),
        checkpointEvery: readNumber(form, 'training.checkpointEvery'),
        saveCheckpointBetweenDatasets: readChecked(form, 'training.saveCheckpointBetweenDatasets'),
        evalEnabled: readChecked(form, 'training.evalEnabled'),
      },
      gpu: { type: readText(form, 'gpu.type'), count: readNumber(form, 'gpu.count'), timeoutHours: readNumber(form, 'gpu.timeoutHours') },
      queue: { continueOnFailure: readChecked(form, 'queue.continueOnFailure'), mergeAdapters: readChecked(form, 'queue.mergeAdapters') },
    };
  }

  /** Shows client errors (they win) and any server errors still standing; returns the client errors. */
  function renderErrors(): FieldErrors {
    const clientErrors = validateForm(readValues());
    const merged = new Map([...serverErrors, ...clientErrors]);
    const unplaced = showFieldErrors(form, merged);
    replaceChildren(summary, unplaced.length ? h('ul', {}, unplaced.map(([path, message]) => h('li', {}, `${path}: ${message}`))) : null);
    return clientErrors;
  }

  function onFormChange(): void {
    serverErrors = new Map();
    idempotencyKey = newIdempotencyKey();
    const errors = renderErrors();
    clearTimeout(estimateTimer);
    if (errors.size > 0) {
      estimateRequest++;
      replaceChildren(estimatePanel, h('h2', {}, 'Estimate'), h('p', { class: 'state state-empty' }, 'Fix the highlighted fields to see an estimate.'));
      return;
    }
    estimateTimer = setTimeout(() => void refreshEstimate(), ESTIMATE_DEBOUNCE_MS);
  }

  async function refreshEstimate(): Promise<void> {
    const request = ++estimateRequest;
    estimatePanel.setAttribute('aria-busy', 'true');
    if (!estimatePanel.querySelector('.estimate-figures')) replaceChildren(estimatePanel, h('h2', {}, 'Estimate'), h('p', { class: 'state state-loading' }, 'Estimating…'));
    const result = await client.query(EstimateJobQuery, { input: toLaunchInput(readValues(), idempotencyKey) }).toPromise();
    if (disposed || request !== estimateRequest) return;
    estimatePanel.removeAttribute('aria-busy');
    const payload = result.data?.estimateJob;
    if (result.error || !payload) {
      replaceChildren(estimatePanel, h('h2', {}, 'Estimate'), h('p', { class: 'state state-error' }, `Could not estimate: ${result.error?.message ?? 'no data'}`));
    } else if (payload.__typename === 'EstimateJobSuccess') {
      replaceChildren(estimatePanel, ...renderEstimate(payload.data));
    } else if (payload.__typename === 'ValidationError') {
      serverErrors = new Map(payload.fieldErrors.map((error) => [error.path, error.message]));
      renderErrors();
      replaceChildren(estimatePanel, h('h2', {}, 'Estimate'), h('p', { class: 'state state-error' }, payload.message));
    } else {
      replaceChildren(estimatePanel, h('h2', {}, 'Estimate'), h('p', { class: 'state state-error' }, `${payload.message} ${payload.fix}`));
    }
  }

  async function submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const errors = renderErrors();
    if (errors.size > 0) {
      (form.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus();
      return;
    }
    submitButton.disabled = true;
    submitButton.textContent = 'Launching…';
    const result = await client.mutation(LaunchJobMutation, { input: toLaunchInput(readValues(), idempotencyKey) }).toPromise();
    if (disposed) return;
    submitButton.disabled = false;
    submitButton.textContent = 'Launch job';
    const payload = result.data?.launchJob;
    if (result.error || !payload) {
      replaceChildren(summary, h('p', {}, `Launch failed: ${result.error?.message ?? 'no data'}. Check the connection and try again.`));
    } else if (payload.__typename === 'LaunchJobSuccess') {
      navigate(`#/jobs/${encodeURIComponent(payload.data.job.id)}`);
    } else if (payload.__typename === 'ValidationError') {
      serverErrors = new Map(payload.fieldErrors.map((error) => [error.path, `${error.message} Allowed: ${error.allowed}.`]));
      renderErrors();
      (form.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus();
    } else if (payload.__typename === 'IdempotencyConflictError') {
      replaceChildren(summary, h('p', {}, payload.message, ' ', h('a', { href: `#/jobs/${encodeURIComponent(payload.existingJobId)}` }, 'Open the existing job')));
    } else {
      replaceChildren(summary, h('p', {}, `${payload.message} ${payload.fix}`));
    }
  }

  async function loadGpuTypes(): Promise<void> {
    gpuSelect.disabled = true;
    const result = await client.query(GpuTypesQuery, {}).toPromise();
    if (disposed) return;
    gpuSelect.disabled = false;
    if (result.error || !result.data) {
      gpuStatus.textContent = `Could not load GPU types: ${result.error?.message ?? 'no data'}.`;
      return;
    }
    const selected = gpuSelect.value;
    const gpuTypes = result.data.gpuTypes.map((gpu) => gpu.type);
    replaceChildren(gpuSelect, result.data.gpuTypes.map((gpu) => h('option', { value: gpu.type }, `${gpu.type} (${formatUsd(gpu.pricePerHourUsd)}/h)`)));
    gpuSelect.value = gpuTypes.includes(selected) ? selected : gpuTypes[0] ?? '';
    gpuStatus.textContent = gpuTypes.length === 0 ? 'The server lists no GPU types.' : '';
    onFormChange();
  }

  form.addEventListener('input', onFormChange);
  form.addEventListener('change', onFormChange);
  form.addEventListener('submit', (event) => void submit(event));
  void loadGpuTypes();

  return () => {
    disposed = true;
    clearTimeout(estimateTimer);
  };
};

function renderEstimate(estimate: EstimateViewFragment): HTMLElement[] {
  return [
    h('h2', {}, 'Estimate'),
    h(
      'dl',
      { class: 'estimate-figures' },
      h('dt', {}, 'Duration'),
      h('dd', { 'data-estimate': 'duration' }, estimate.durationText),
      h('dt', {}, 'Cost'),
      h('dd', { 'data-estimate': 'cost' }, formatUsd(estimate.costUsd)),
      h('dt', {}, 'GPU'),
      h('dd', {}, `${estimate.gpuCount} × ${estimate.gpuType} at ${formatUsd(estimate.pricePerGpuHourUsd)}/h`),
    ),
    h('ol', { class: 'estimate-datasets' }, estimate.datasets.map((dataset) => h('li', {}, `${dataset.description ?? `Dataset ${dataset.index + 1}`}: ${dataset.steps} steps, ${dataset.durationText}, ${formatUsd(dataset.costUsd)}`))),
    h('p', { class: 'hint' }, estimate.assumptions),
  ];
}
