import path from 'node:path';
import type { DatasetRun, Job } from '../db/index.js';
import type { StageRequest } from '../executors/contract.js';
import type { NormalizedJob } from './input.js';

type Training = NormalizedJob['training'];

/** Seconds between pipeline heartbeats. */
export const HEARTBEAT_SECONDS = 5;

function trainingSection(job: Job): StageRequest['training'] {
  const training = job.training as unknown as Training;
  return {
    max_steps: training.maxStepsPerDataset,
    learning_rate: training.learningRate,
    batch_size: training.batchSize,
    gradient_accumulation_steps: training.gradientAccumulationSteps,
    lora_rank: training.loraRank,
    lora_alpha: training.loraAlpha,
    lora_dropout: training.loraDropout,
    warmup_steps: training.warmupSteps,
    checkpoint_every: training.checkpointEvery,
    logging_steps: 1,
    eval_enabled: training.evalEnabled,
    seed: training.seed,
  };
}

function modelSection(job: Job): StageRequest['model'] {
  return {
    name: job.modelName,
    revision: null,
    max_seq_length: job.maxSeqLength,
    load_in_4bit: job.executor === 'MODAL',
    reasoning_effort: job.reasoningEffort as 'low' | 'medium' | 'high',
  };
}

/** Builds the stage request of a dataset run from stored rows only, so a restarted server builds the same one. */
export function datasetRunRequest(job: Job, run: DatasetRun): StageRequest {
  return {
    v: 1,
    stage: 'dataset_run',
    job_id: job.id,
    run_id: run.id,
    attempt: Math.max(1, run.attempt),
    model: modelSection(job),
    dataset: {
      index: run.index,
      source: run.source === 'HUGGINGFACE' ? 'huggingface' : 'local',
      repo: run.repo,
      file: run.file,
      revision: run.revision,
      path: run.path,
      format: 'csv',
      train_split: run.trainSplit,
      description: run.description,
      column_mapping: (run.columnMapping as Record<string, string> | null) ?? null,
      quality_threshold: run.qualityThreshold,
      topics_include: run.topicsInclude,
      topics_exclude: run.topicsExclude,
      max_rows: run.maxRows,
    },
    training: trainingSection(job),
    init_adapter: run.initAdapter,
    adapter: null,
    output_dir: run.outputDir ?? '',
    heartbeat_seconds: HEARTBEAT_SECONDS,
  };
}

export function mergeRequest(job: Job, adapter: string, outputDir: string): StageRequest {
  return {
    v: 1,
    stage: 'merge',
    job_id: job.id,
    run_id: null,
    attempt: Math.max(1, job.mergeAttempt),
    model: modelSection(job),
    dataset: null,
    training: trainingSection(job),
    init_adapter: null,
    adapter,
    output_dir: outputDir,
    heartbeat_seconds: HEARTBEAT_SECONDS,
  };
}

export function runOutputDir(jobDir: string, run: Pick<DatasetRun, 'index' | 'id'>): string {
  return path.posix.join(jobDir, 'runs', `${String(run.index).padStart(2, '0')}-${run.id}`);
}
