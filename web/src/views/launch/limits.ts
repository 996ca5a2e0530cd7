/**
 * Input limits and defaults, mirrored from the server's launch validation (server/jobs/input.ts
 * LIMITS and DEFAULTS) so the form can reject values without a request. The server stays
 * authoritative: its ValidationError is shown next to the same fields.
 */
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
  maxRows: { min: 1, max: 10_000_000 },
  maxDatasets: 20,
} as const;

export const DEFAULTS = {
  modelName: 'openai/gpt-oss-20b',
  maxSeqLength: 2048,
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
  },
  gpu: { type: 'H100', count: 1, timeoutHours: 12 },
} as const;

/** Base models offered in the form; the field also accepts any other Hugging Face id. */
export const MODEL_CHOICES = [
  { value: 'openai/gpt-oss-20b', label: 'GPT-OSS 20B (recommended)' },
  { value: 'tunedeck/tiny-gpt-oss', label: 'Tiny GPT-OSS (CPU test model)' },
];

export const TRAVEL_REPO = 'soniawmeyer/travel-conversations-finetuning';

/** The two travel datasets a new form starts with, in training order. */
export const DEFAULT_DATASETS = [
  { file: 'conversational_sample_processed_with_topic.csv', description: 'Travel Conversations (680 MB)' },
  { file: 'travel_QA_processed_with_topic.csv', description: 'Travel QA (147 MB)' },
];
