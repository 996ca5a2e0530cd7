import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * TypeScript mirror of schema/contracts/*.schema.json, the two contracts the
 * server and the Python pipeline share. The JSON Schemas are the source of
 * truth; tests validate the example files against both sides.
 */
export interface StageRequest {
  v: 1;
  stage: 'dataset_run' | 'merge';
  job_id: string;
  run_id: string | null;
  attempt: number;
  model: { name: string; revision: string | null; max_seq_length: number; load_in_4bit: boolean; reasoning_effort: 'low' | 'medium' | 'high' };
  dataset: {
    index: number;
    source: 'huggingface' | 'local';
    repo: string | null;
    file: string | null;
    revision: string | null;
    path: string | null;
    format: 'csv';
    train_split: number;
    description: string | null;
    column_mapping: Record<string, string> | null;
    quality_threshold: number | null;
    topics_include: string[];
    topics_exclude: string[];
    max_rows: number | null;
  } | null;
  training: {
    max_steps: number;
    learning_rate: number;
    batch_size: number;
    gradient_accumulation_steps: number;
    lora_rank: number;
    lora_alpha: number;
    lora_dropout: number;
    warmup_steps: number;
    checkpoint_every: number;
    logging_steps: number;
    eval_enabled: boolean;
    seed: number;
  };
  init_adapter: string | null;
  adapter: string | null;
  output_dir: string;
  heartbeat_seconds: number;
}

export type EventType = 'status' | 'progress' | 'metric' | 'log' | 'checkpoint' | 'artifact' | 'data_report' | 'heartbeat' | 'error' | 'result';

export interface PipelineEvent {
  v: 1;
  job_id: string;
  run_id: string | null;
  stage: 'dataset_run' | 'merge';
  attempt: number;
  stream: string;
  seq: number;
  ts: string;
  type: EventType;
  data: Record<string, unknown>;
}

export interface StageResult {
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  adapter_path?: string | null;
  merged_path?: string | null;
  metrics?: Record<string, number | null>;
  dataset_sha256?: string | null;
  error?: string | null;
}

const contractsDir = path.resolve(import.meta.dirname, '..', '..', 'schema', 'contracts');
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validateEventSchema = ajv.compile(JSON.parse(readFileSync(path.join(contractsDir, 'event.schema.json'), 'utf8')));
const validateRequestSchema = ajv.compile(JSON.parse(readFileSync(path.join(contractsDir, 'stage-request.schema.json'), 'utf8')));

/** Checks one decoded event against the shared contract; returns the reasons it is invalid, or null. */
export function eventProblems(event: unknown): string | null {
  if (validateEventSchema(event)) return null;
  return ajv.errorsText(validateEventSchema.errors, { dataVar: 'event' });
}

export function requestProblems(request: unknown): string | null {
  if (validateRequestSchema(request)) return null;
  return ajv.errorsText(validateRequestSchema.errors, { dataVar: 'request' });
}
