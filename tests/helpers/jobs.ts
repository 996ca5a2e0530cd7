import path from 'node:path';

export const SAMPLES_DIR = path.resolve(import.meta.dirname, '..', '..', 'modal', 'samples');

/** Builds a small, fast launch input on the tiny CPU model and the sample CSVs. */
export function tinyJobInput(overrides: Record<string, unknown> = {}, datasets?: Record<string, unknown>[]) {
  return {
    name: 'tiny-travel',
    modelName: 'tunedeck/tiny-gpt-oss',
    maxSeqLength: 512,
    reasoningEffort: 'LOW',
    executor: 'LOCAL',
    datasets: datasets ?? [
      { source: 'LOCAL', path: path.join(SAMPLES_DIR, 'travel_conversations.csv'), priority: 1, description: 'Travel conversations (sample)', trainSplit: 0.8 },
      { source: 'LOCAL', path: path.join(SAMPLES_DIR, 'qa_quality.csv'), priority: 2, description: 'Travel QA (sample)', trainSplit: 0.8 },
    ],
    training: { maxStepsPerDataset: 12, learningRate: 0.002, batchSize: 2, gradientAccumulationSteps: 1, loraRank: 8, loraAlpha: 16, warmupSteps: 1, checkpointEvery: 4 },
    gpu: { type: 'H100', count: 1, timeoutHours: 2 },
    queue: { continueOnFailure: false, mergeAdapters: true },
    ...overrides,
  };
}

export const LAUNCH = /* GraphQL */ `
  mutation Launch($input: LaunchJobInput!) {
    launchJob(input: $input) {
      __typename
      ... on LaunchJobSuccess { data { created job { id status lastSeq runs { id index status } } estimate { durationSeconds costUsd datasets { index costUsd durationSeconds } assumptions } } }
      ... on ValidationError { message fieldErrors { path message value allowed } }
      ... on IdempotencyConflictError { message existingJobId }
      ... on ExecutorUnavailableError { message fix }
    }
  }
`;

export const JOB_DETAIL = /* GraphQL */ `
  query JobDetail($id: ID!) {
    job(id: $id) {
      id status phase error progressPercent lastSeq totalDatasets datasetsCompleted
      currentDataset { position total run { id } }
      runs { id index status step totalSteps attempt error adapterPath report finalMetrics datasetSha256 }
      model { id name version status mergedPath adapterPath metrics { finalTrainLoss finalEvalLoss perplexity } lineage }
      latestMetrics { step trainLoss evalLoss learningRate }
    }
  }
`;
