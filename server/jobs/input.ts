import { createHash } from 'node:crypto';

/** Launch input as the GraphQL API receives it (camelCase). Optional fields get the defaults below. */
export interface LaunchJobInput {
  name?: string | null;
  modelName?: string | null;
  maxSeqLength?: number | null;
  reasoningEffort?: 'low' | 'medium' | 'high' | null;
  datasets: DatasetInput[];
  training?: TrainingInput | null;
  gpu?: GpuInput | null;
  queue?: QueueInput | null;
  executor?: 'LOCAL' | 'MODAL' | null;
  idempotencyKey?: string | null;
}

export interface DatasetInput {
  source: 'HUGGINGFACE' | 'LOCAL';
  repo?: string | null;
  file?: string | null;
  revision?: string | null;
  path?: string | null;
  format?: string | null;
  trainSplit?: number | null;
  priority: number;
  description?: string | null;
  columnMapping?: ColumnMappingInput | null;
  qualityThreshold?: number | null;
  topicsInclude?: string[] | null;
  topicsExclude?: string[] | null;
  maxRows?: number | null;
}

export interface ColumnMappingInput {
  shape?: 'travel_literal' | 'transcript' | 'question_answer' | null;
  data?: string | null;
  source?: string | null;
  transcript?: string | null;
  question?: string | null;
  answer?: string | null;
  quality?: string | null;
  topic?: string | null;
}

export interface TrainingInput {
  maxStepsPerDataset?: number | null;
  learningRate?: number | null;
  batchSize?: number | null;
  gradientAccumulationSteps?: number | null;
  loraRank?: number | null;
  loraAlpha?: number | null;
  loraDropout?: number | null;
  warmupSteps?: number | null;
  checkpointEvery?: number | null;
  saveCheckpointBetweenDatasets?: boolean | null;
  evalEnabled?: boolean | null;
  seed?: number | null;
}

export interface GpuInput {
  type?: string | null;
  count?: number | null;
  timeoutHours?: number | null;
}

export interface QueueInput {
  sequential?: boolean | null;
  continueOnFailure?: boolean | null;
  mergeAdapters?: boolean | null;
}

/** Launch input with every default filled in and every value checked. */
export interface NormalizedJob {
  name: string | null;
  modelName: string;
  maxSeqLength: number;
  reasoningEffort: 'low' | 'medium' | 'high';
  datasets: NormalizedDataset[];
  training: Required<{ [K in keyof TrainingInput]: NonNullable<TrainingInput[K]> }>;
  gpu: { type: string; count: number; timeoutHours: number };
  queue: { sequential: boolean; continueOnFailure: boolean; mergeAdapters: boolean };
  executor: 'LOCAL' | 'MODAL';
}

export interface NormalizedDataset {
  source: 'HUGGINGFACE' | 'LOCAL';
  repo: string | null;
  file: string | null;
  revision: string | null;
  path: string | null;
  format: 'csv';
  trainSplit: number;
  priority: number;
  description: string | null;
  columnMapping: ColumnMappingInput | null;
  qualityThreshold: number | null;
  topicsInclude: string[];
  topicsExclude: string[];
  maxRows: number | null;
}

/** One invalid input value: where it is, what it was, and what is allowed. */
export interface FieldError {
  path: string;
  message: string;
  value: string;
  allowed: string;
}

export const LIMITS = {
  maxSteps: { min: 10, max: 10_000 },
  learningRate: { min: 1e-5, max: 1e-2 },
  batchSizes: [1, 2, 4, 8],
  loraRanks: [8, 16, 32, 64],
  loraAlpha: { min: 8, max: 128 },
  loraDropout: { min: 0, max: 0.5 },
  gradientAccumulationSteps: { min: 1, max: 64 },
  maxSeqLength: { min: 512, max: 4096 },
  timeoutHours: { min: 2, max: 24 },
  gpuCount: { min: 1, max: 8 },
  checkpointEvery: { min: 1, max: 10_000 },
  maxDatasets: 20,
} as const;

export const DEFAULTS = {
  modelName: 'openai/gpt-oss-20b',
  maxSeqLength: 2048,
  reasoningEffort: 'low',
  trainSplit: 0.9,
  training: {
    maxStepsPerDataset: 1000,
    learningRate: 2e-4,
    batchSize: 4,
    gradientAccumulationSteps: 8,
    loraRank: 16,
    loraAlpha: 32,
    loraDropout: 0,
    warmupSteps: 100,
    checkpointEvery: 100,
    saveCheckpointBetweenDatasets: true,
    evalEnabled: true,
    seed: 3407,
  },
  gpu: { type: 'H100', count: 1, timeoutHours: 12 },
  queue: { sequential: true, continueOnFailure: false, mergeAdapters: true },
} as const;

/** Model name that makes the pipeline build its tiny CPU test model instead of loading weights. */
export const TINY_MODEL = 'tunedeck/tiny-gpt-oss';

const show = (value: unknown) => (value === undefined ? 'undefined' : JSON.stringify(value));

class Checker {
  readonly errors: FieldError[] = [];

  fail(path: string, value: unknown, message: string, allowed: string) {
    this.errors.push({ path, message, value: show(value), allowed });
  }

  range(path: string, value: number, min: number, max: number, options: { integer?: boolean; unit?: string } = {}) {
    const unit = options.unit ? ` ${options.unit}` : '';
    const allowed = `${options.integer ? 'a whole number ' : ''}from ${min} to ${max}${unit}`;
    if (!Number.isFinite(value) || (options.integer && !Number.isInteger(value)) || value < min || value > max) {
      this.fail(path, value, `${path} must be ${allowed}; got ${show(value)}.`, allowed);
    }
  }

  oneOf<T>(path: string, value: T, allowedValues: readonly T[]) {
    if (!allowedValues.includes(value)) {
      const allowed = `one of ${allowedValues.join(', ')}`;
      this.fail(path, value, `${path} must be ${allowed}; got ${show(value)}.`, allowed);
    }
  }
}

/**
 * Fills defaults and checks every field of a launch. Returns the normalized job,
 * or the list of field errors (all of them, not only the first).
 */
export function validateLaunchInput(
  input: LaunchJobInput,
  options: { gpuTypes: string[]; defaultExecutor: 'LOCAL' | 'MODAL' },
): { ok: true; job: NormalizedJob } | { ok: false; errors: FieldError[] } {
  const check = new Checker();
  const training = { ...DEFAULTS.training, ...stripNulls(input.training ?? {}) };
  const gpu = { ...DEFAULTS.gpu, ...stripNulls(input.gpu ?? {}) };
  const queue = { ...DEFAULTS.queue, ...stripNulls(input.queue ?? {}) };
  const modelName = (input.modelName ?? DEFAULTS.modelName).trim();
  const maxSeqLength = input.maxSeqLength ?? DEFAULTS.maxSeqLength;

  if (!/^[\w.-]+\/[\w.-]+$/.test(modelName) && !modelName.startsWith('/')) {
    check.fail(
      'modelName',
      input.modelName,
      `modelName must be a Hugging Face model id such as ${DEFAULTS.modelName}, an absolute path to a model folder, or ${TINY_MODEL} for a CPU trial; got ${show(input.modelName)}.`,
      'owner/name, an absolute folder path, or tunedeck/tiny-gpt-oss',
    );
  }
  check.range('maxSeqLength', maxSeqLength, LIMITS.maxSeqLength.min, LIMITS.maxSeqLength.max, { integer: true, unit: 'tokens' });

  check.range('training.maxStepsPerDataset', training.maxStepsPerDataset, LIMITS.maxSteps.min, LIMITS.maxSteps.max, { integer: true, unit: 'steps' });
  check.range('training.learningRate', training.learningRate, LIMITS.learningRate.min, LIMITS.learningRate.max);
  check.oneOf('training.batchSize', training.batchSize, LIMITS.batchSizes);
  check.range('training.gradientAccumulationSteps', training.gradientAccumulationSteps, LIMITS.gradientAccumulationSteps.min, LIMITS.gradientAccumulationSteps.max, { integer: true });
  check.oneOf('training.loraRank', training.loraRank, LIMITS.loraRanks);
  check.range('training.loraAlpha', training.loraAlpha, LIMITS.loraAlpha.min, LIMITS.loraAlpha.max, { integer: true });
  check.range('training.loraDropout', training.loraDropout, LIMITS.loraDropout.min, LIMITS.loraDropout.max);
  check.range('training.checkpointEvery', training.checkpointEvery, LIMITS.checkpointEvery.min, LIMITS.checkpointEvery.max, { integer: true, unit: 'steps' });
  check.range('training.seed', training.seed, 0, 2 ** 31 - 1, { integer: true });
  if (!Number.isInteger(training.warmupSteps) || training.warmupSteps < 0 || training.warmupSteps >= training.maxStepsPerDataset) {
    const allowed = `a whole number from 0 to ${Math.max(0, training.maxStepsPerDataset - 1)} (below training.maxStepsPerDataset)`;
    check.fail('training.warmupSteps', training.warmupSteps, `training.warmupSteps must be ${allowed}; got ${show(training.warmupSteps)}.`, allowed);
  }

  if (!options.gpuTypes.includes(gpu.type)) {
    check.oneOf('gpu.type', gpu.type, options.gpuTypes);
  }
  check.range('gpu.count', gpu.count, LIMITS.gpuCount.min, LIMITS.gpuCount.max, { integer: true });
  check.range('gpu.timeoutHours', gpu.timeoutHours, LIMITS.timeoutHours.min, LIMITS.timeoutHours.max, { integer: true, unit: 'hours' });
  if (!queue.sequential) {
    check.fail('queue.sequential', queue.sequential, 'Datasets can only be trained one after another: each run continues from the adapter of the run before it.', 'true');
  }

  if (input.datasets.length === 0) {
    check.fail('datasets', [], 'datasets must list at least one dataset.', `1 to ${LIMITS.maxDatasets} datasets`);
  } else if (input.datasets.length > LIMITS.maxDatasets) {
    check.fail('datasets', input.datasets.length, `datasets may list at most ${LIMITS.maxDatasets} datasets; got ${input.datasets.length}.`, `1 to ${LIMITS.maxDatasets} datasets`);
  }
  const priorities = new Map<number, number>();
  const datasets = input.datasets.map((dataset, index) => {
    const at = `datasets[${index}]`;
    const trainSplit = dataset.trainSplit ?? DEFAULTS.trainSplit;
    if (!(trainSplit > 0 && trainSplit < 1)) {
      check.fail(`${at}.trainSplit`, trainSplit, `${at}.trainSplit must be strictly between 0 and 1; got ${show(trainSplit)}.`, 'greater than 0 and less than 1');
    }
    if (!Number.isInteger(dataset.priority)) {
      check.fail(`${at}.priority`, dataset.priority, `${at}.priority must be a whole number.`, 'a whole number, unique within the job');
    } else if (priorities.has(dataset.priority)) {
      check.fail(`${at}.priority`, dataset.priority, `${at}.priority ${dataset.priority} is already used by datasets[${priorities.get(dataset.priority)}]; priorities set the training order and must be unique.`, 'a whole number, unique within the job');
    } else {
      priorities.set(dataset.priority, index);
    }
    const format = (dataset.format ?? 'csv').toLowerCase();
    if (format !== 'csv') check.fail(`${at}.format`, dataset.format, `${at}.format must be csv; got ${show(dataset.format)}.`, 'csv');
    if (dataset.source === 'HUGGINGFACE') {
      if (!dataset.repo || !/^[\w.-]+\/[\w.-]+$/.test(dataset.repo)) {
        check.fail(`${at}.repo`, dataset.repo, `${at}.repo must be a Hugging Face dataset id such as owner/name.`, 'owner/name');
      }
      if (!dataset.file) check.fail(`${at}.file`, dataset.file, `${at}.file must name a CSV file in the dataset repo.`, 'a file path inside the repo');
    } else if (!dataset.path || !dataset.path.startsWith('/')) {
      check.fail(`${at}.path`, dataset.path, `${at}.path must be an absolute path to a CSV file on the machine that runs the pipeline.`, 'an absolute file path');
    }
    if (dataset.qualityThreshold != null) check.range(`${at}.qualityThreshold`, dataset.qualityThreshold, 0, 10);
    if (dataset.maxRows != null) check.range(`${at}.maxRows`, dataset.maxRows, 1, 10_000_000, { integer: true, unit: 'rows' });
    const normalized: NormalizedDataset = {
      source: dataset.source,
      repo: dataset.repo?.trim() || null,
      file: dataset.file?.trim() || null,
      revision: dataset.revision?.trim() || null,
      path: dataset.path?.trim() || null,
      format: 'csv',
      trainSplit,
      priority: dataset.priority,
      description: dataset.description?.trim() || null,
      columnMapping: dataset.columnMapping ? stripNulls(dataset.columnMapping) : null,
      qualityThreshold: dataset.qualityThreshold ?? null,
      topicsInclude: dataset.topicsInclude ?? [],
      topicsExclude: dataset.topicsExclude ?? [],
      maxRows: dataset.maxRows ?? null,
    };
    return normalized;
  });

  if (check.errors.length > 0) return { ok: false, errors: check.errors };
  datasets.sort((a, b) => a.priority - b.priority);
  return {
    ok: true,
    job: {
      name: input.name?.trim() || null,
      modelName,
      maxSeqLength,
      reasoningEffort: input.reasoningEffort ?? DEFAULTS.reasoningEffort,
      datasets,
      training,
      gpu,
      queue,
      executor: input.executor ?? options.defaultExecutor,
    },
  };
}

function stripNulls<T extends object>(value: T): { [K in keyof T]: NonNullable<T[K]> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== null && entry !== undefined)) as {
    [K in keyof T]: NonNullable<T[K]>;
  };
}

/** sha256 of a job's normalized input with sorted keys, for idempotency-key comparisons. */
export function hashJob(job: NormalizedJob): string {
  return createHash('sha256').update(stableStringify(job)).digest('hex');
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${stableStringify(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
