import type { LaunchJobInput } from '../../gql/graphql.js';
import { LIMITS } from './limits.js';

/** Form values as read from the controls; numbers are NaN when a field is empty or not a number. */
export interface DatasetValues {
  source: 'HUGGINGFACE' | 'LOCAL';
  repo: string;
  file: string;
  path: string;
  description: string;
  priority: number;
  trainSplit: number;
  maxRows: number | null;
}

export interface FormValues {
  name: string;
  modelName: string;
  maxSeqLength: number;
  reasoningEffort: 'LOW' | 'MEDIUM' | 'HIGH';
  executor: 'LOCAL' | 'MODAL' | '';
  datasets: DatasetValues[];
  training: {
    maxStepsPerDataset: number;
    learningRate: number;
    batchSize: number;
    gradientAccumulationSteps: number;
    warmupSteps: number;
    loraRank: number;
    loraAlpha: number;
    loraDropout: number;
    checkpointEvery: number;
    saveCheckpointBetweenDatasets: boolean;
    evalEnabled: boolean;
  };
  gpu: { type: string; count: number; timeoutHours: number };
  queue: { continueOnFailure: boolean; mergeAdapters: boolean };
}

/** Field errors keyed by the dotted path the server's ValidationError uses, such as `datasets[1].priority`. */
export type FieldErrors = Map<string, string>;

function checkRange(errors: FieldErrors, path: string, value: number, range: { min: number; max: number }, options: { integer?: boolean; unit?: string } = {}): void {
  const unit = options.unit ? ` ${options.unit}` : '';
  if (Number.isNaN(value)) {
    errors.set(path, `Required: ${options.integer ? 'a whole number ' : ''}from ${range.min} to ${range.max}${unit}.`);
  } else if (options.integer && !Number.isInteger(value)) {
    errors.set(path, `Must be a whole number from ${range.min} to ${range.max}${unit}.`);
  } else if (value < range.min || value > range.max) {
    errors.set(path, `Must be from ${range.min} to ${range.max}${unit}; got ${value}.`);
  }
}

function checkOneOf(errors: FieldErrors, path: string, value: number | string, allowed: readonly (number | string)[]): void {
  if (!allowed.includes(value)) errors.set(path, `Must be one of ${allowed.join(', ')}.`);
}

/**
 * Checks the form against the server's launch limits and returns every field error.
 * The GPU type is not checked here: its select offers only the server's `gpuTypes`, and the
 * server rejects any other value with a field error that the form shows.
 */
export function validateForm(values: FormValues): FieldErrors {
  const errors: FieldErrors = new Map();
  const { training, gpu } = values;

  if (!values.modelName.trim()) errors.set('modelName', 'Required: a Hugging Face model id.');
  checkRange(errors, 'maxSeqLength', values.maxSeqLength, LIMITS.maxSeqLength, { integer: true, unit: 'tokens' });

  checkRange(errors, 'training.maxStepsPerDataset', training.maxStepsPerDataset, LIMITS.maxSteps, { integer: true, unit: 'steps' });
  checkRange(errors, 'training.learningRate', training.learningRate, LIMITS.learningRate);
  checkOneOf(errors, 'training.batchSize', training.batchSize, LIMITS.batchSizes);
  checkRange(errors, 'training.gradientAccumulationSteps', training.gradientAccumulationSteps, LIMITS.gradientAccumulationSteps, { integer: true });
  checkOneOf(errors, 'training.loraRank', training.loraRank, LIMITS.loraRanks);
  checkRange(errors, 'training.loraAlpha', training.loraAlpha, LIMITS.loraAlpha, { integer: true });
  checkRange(errors, 'training.loraDropout', training.loraDropout, LIMITS.loraDropout);
  checkRange(errors, 'training.checkpointEvery', training.checkpointEvery, LIMITS.checkpointEvery, { integer: true, unit: 'steps' });
  const warmupMax = Number.isInteger(training.maxStepsPerDataset) ? training.maxStepsPerDataset - 1 : Number.NaN;
  if (Number.isNaN(training.warmupSteps) || !Number.isInteger(training.warmupSteps) || training.warmupSteps < 0) {
    errors.set('training.warmupSteps', 'Required: a whole number of steps, 0 or more, below the steps per dataset.');
  } else if (!Number.isNaN(warmupMax) && training.warmupSteps > warmupMax) {
    errors.set('training.warmupSteps', `Must be below the steps per dataset (at most ${warmupMax}); got ${training.warmupSteps}.`);
  }

  checkRange(errors, 'gpu.count', gpu.count, LIMITS.gpuCount, { integer: true });
  checkRange(errors, 'gpu.timeoutHours', gpu.timeoutHours, LIMITS.timeoutHours, { integer: true, unit: 'hours' });

  if (values.datasets.length === 0) errors.set('datasets', 'Add at least one dataset.');
  if (values.datasets.length > LIMITS.maxDatasets) errors.set('datasets', `At most ${LIMITS.maxDatasets} datasets.`);
  const priorities = new Map<number, number>();
  values.datasets.forEach((dataset, index) => {
    const at = `datasets[${index}]`;
    if (!(dataset.trainSplit > 0 && dataset.trainSplit < 1)) errors.set(`${at}.trainSplit`, 'Must be strictly between 0 and 1, such as 0.9.');
    if (!Number.isInteger(dataset.priority)) {
      errors.set(`${at}.priority`, 'Required: a whole number; lower trains first.');
    } else if (priorities.has(dataset.priority)) {
      errors.set(`${at}.priority`, `Priority ${dataset.priority} is already used by dataset ${priorities.get(dataset.priority)! + 1}; priorities must be unique.`);
    } else {
      priorities.set(dataset.priority, index);
    }
    if (dataset.source === 'HUGGINGFACE') {
      if (!/^[\w.-]+\/[\w.-]+$/.test(dataset.repo.trim())) errors.set(`${at}.repo`, 'Required: a Hugging Face dataset id such as owner/name.');
      if (!dataset.file.trim()) errors.set(`${at}.file`, 'Required: the CSV file inside the repo.');
    } else if (!dataset.path.trim().startsWith('/')) {
      errors.set(`${at}.path`, 'Required: an absolute path to a CSV file on the machine that runs the pipeline.');
    }
    if (dataset.maxRows !== null) checkRange(errors, `${at}.maxRows`, dataset.maxRows, LIMITS.maxRows, { integer: true, unit: 'rows' });
  });

  return errors;
}

/** Builds the `launchJob` and `estimateJob` input from checked form values; blank optional text becomes null. */
export function toLaunchInput(values: FormValues, idempotencyKey: string | null): LaunchJobInput {
  return {
    name: values.name.trim() || null,
    modelName: values.modelName.trim(),
    maxSeqLength: values.maxSeqLength,
    reasoningEffort: values.reasoningEffort,
    executor: values.executor || null,
    idempotencyKey,
    datasets: values.datasets.map((dataset) => ({
      source: dataset.source,
      priority: dataset.priority,
      trainSplit: dataset.trainSplit,
      description: dataset.description.trim() || null,
      maxRows: dataset.maxRows,
      ...(dataset.source === 'HUGGINGFACE' ? { repo: dataset.repo.trim(), file: dataset.file.trim() } : { path: dataset.path.trim() }),
    })),
    training: { ...values.training },
    gpu: { ...values.gpu },
    queue: { sequential: true, ...values.queue },
  };
}
