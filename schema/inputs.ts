import { DEFAULTS, LIMITS } from '../server/jobs/input.js';
import { builder } from './builder.js';
import { DatasetSourceEnum, ExecutorKindEnum, ReasoningEffortEnum, RowShapeEnum } from './enums.js';

export const ColumnMappingInput = builder.inputType('ColumnMappingInput', {
  description: 'Overrides the row shape detected from the CSV header. Name the columns of the chosen shape.',
  fields: (t) => ({
    shape: t.field({ type: RowShapeEnum }),
    data: t.string({ description: 'TRAVEL_LITERAL: column with the Python-literal record (default `data`).' }),
    source: t.string({ description: 'TRAVEL_LITERAL: column naming the record kind (default `source`).' }),
    transcript: t.string({ description: 'TRANSCRIPT: column with Human:/Assistant: turns.' }),
    question: t.string(),
    answer: t.string(),
    quality: t.string({ description: 'Optional numeric quality-score column.' }),
    topic: t.string({ description: 'Optional topic column used by topicsInclude and topicsExclude.' }),
  }),
});

export const DatasetInput = builder.inputType('DatasetInput', {
  fields: (t) => ({
    source: t.field({ type: DatasetSourceEnum, required: true }),
    repo: t.string({ description: 'HUGGINGFACE: dataset repo id, such as `soniawmeyer/travel-conversations-finetuning`.' }),
    file: t.string({ description: 'HUGGINGFACE: CSV file inside the repo.' }),
    revision: t.string({ description: 'HUGGINGFACE: git revision to pin; default `main`.' }),
    path: t.string({ description: 'LOCAL: absolute path of the CSV file.' }),
    format: t.string({ description: 'File format; only `csv` is supported.', defaultValue: 'csv' }),
    trainSplit: t.float({ description: `Share of rows used for training, strictly between 0 and 1; the rest is validation. Default ${DEFAULTS.trainSplit}.` }),
    priority: t.int({ required: true, description: 'Training order: lower first. Unique within a job.' }),
    description: t.string(),
    columnMapping: t.field({ type: ColumnMappingInput }),
    qualityThreshold: t.float({ description: 'Drop rows whose quality score is below this (0-10); used when the file has a quality column. The pipeline defaults to 7.0.' }),
    topicsInclude: t.stringList({ description: 'Keep only rows with one of these topics.' }),
    topicsExclude: t.stringList({ description: 'Drop rows with one of these topics.' }),
    maxRows: t.int({ description: 'Read at most this many rows, for quick trials.' }),
  }),
});

export const TrainingInput = builder.inputType('TrainingInput', {
  fields: (t) => ({
    maxStepsPerDataset: t.int({ description: `Optimizer steps per dataset, ${LIMITS.maxSteps.min}-${LIMITS.maxSteps.max}. Default ${DEFAULTS.training.maxStepsPerDataset}.` }),
    learningRate: t.float({ description: `${LIMITS.learningRate.min}-${LIMITS.learningRate.max}. Default ${DEFAULTS.training.learningRate}.` }),
    batchSize: t.int({ description: `Per-device batch size: ${LIMITS.batchSizes.join(', ')}. Default ${DEFAULTS.training.batchSize}.` }),
    gradientAccumulationSteps: t.int({ description: `${LIMITS.gradientAccumulationSteps.min}-${LIMITS.gradientAccumulationSteps.max}. Default ${DEFAULTS.training.gradientAccumulationSteps}.` }),
    loraRank: t.int({ description: `LoRA rank r: ${LIMITS.loraRanks.join(', ')}. Default ${DEFAULTS.training.loraRank}.` }),
    loraAlpha: t.int({ description: `${LIMITS.loraAlpha.min}-${LIMITS.loraAlpha.max}. Default ${DEFAULTS.training.loraAlpha}.` }),
    loraDropout: t.float({ description: `${LIMITS.loraDropout.min}-${LIMITS.loraDropout.max}. Default ${DEFAULTS.training.loraDropout}.` }),
    warmupSteps: t.int({ description: `Below maxStepsPerDataset. Default ${DEFAULTS.training.warmupSteps}.` }),
    checkpointEvery: t.int({ description: `Save a checkpoint every N steps. Default ${DEFAULTS.training.checkpointEvery}.` }),
    saveCheckpointBetweenDatasets: t.boolean({ description: 'Keep each dataset\'s adapter as a checkpoint. Default true.' }),
    evalEnabled: t.boolean({ description: 'Evaluate on the validation split after each dataset. Default true.' }),
    seed: t.int({ description: `Seed for the split and training. Default ${DEFAULTS.training.seed}.` }),
  }),
});

export const GpuInput = builder.inputType('GpuInput', {
  fields: (t) => ({
    type: t.string({ description: `Modal GPU type, such as H100 or L40S. Default ${DEFAULTS.gpu.type}. Query \`gpuTypes\` for the list.` }),
    count: t.int({ description: `${LIMITS.gpuCount.min}-${LIMITS.gpuCount.max}. Default ${DEFAULTS.gpu.count}.` }),
    timeoutHours: t.int({ description: `Per-run timeout, ${LIMITS.timeoutHours.min}-${LIMITS.timeoutHours.max} hours. Default ${DEFAULTS.gpu.timeoutHours}.` }),
  }),
});

export const QueueInput = builder.inputType('QueueInput', {
  fields: (t) => ({
    sequential: t.boolean({ description: 'Train datasets one after another; must be true.' }),
    continueOnFailure: t.boolean({ description: 'Go on with the next dataset when one fails, from the last good adapter. Default false.' }),
    mergeAdapters: t.boolean({ description: 'Merge the final adapter into the base weights for serving. Default true.' }),
  }),
});

export const LaunchJobInput = builder.inputType('LaunchJobInput', {
  fields: (t) => ({
    name: t.string({ description: 'Name of the model this job registers; versions count per name.' }),
    modelName: t.string({ description: `Base model. Default ${DEFAULTS.modelName}; \`tunedeck/tiny-gpt-oss\` is a tiny CPU test model.` }),
    maxSeqLength: t.int({ description: `${LIMITS.maxSeqLength.min}-${LIMITS.maxSeqLength.max} tokens. Default ${DEFAULTS.maxSeqLength}.` }),
    reasoningEffort: t.field({ type: ReasoningEffortEnum }),
    datasets: t.field({ type: [DatasetInput], required: true }),
    training: t.field({ type: TrainingInput }),
    gpu: t.field({ type: GpuInput }),
    queue: t.field({ type: QueueInput }),
    executor: t.field({ type: ExecutorKindEnum, description: 'Where the pipeline runs; default from TUNEDECK_EXECUTOR.' }),
    idempotencyKey: t.string({ description: 'Launching again with the same key and input returns the same job; with other input it is an IdempotencyConflictError.' }),
  }),
});
