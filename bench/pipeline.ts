import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CACHE_DIR, median, PYTHON, round, ROOT, type BenchResult, type Measurement } from './common.js';

const run = promisify(execFile);
const TARGET_RATIO = 0.5;
const TARGET_PEAK_BYTES = 2 ** 30;
const MB = 10 ** 6;

/** The two synthetic files, named as in the Hugging Face dataset. */
export const FILES = {
  conversations: path.join(CACHE_DIR, 'conversational_sample_processed_with_topic.csv'),
  travel_qa: path.join(CACHE_DIR, 'travel_QA_processed_with_topic.csv'),
};

export interface PipelineOptions {
  /** Runs of each mode on the 147 MB file. */
  smallRuns: number;
  /** Runs of each mode on the 680 MB file. */
  largeRuns: number;
  tokenizeSeconds: number;
}

interface ModeResult {
  rows: number;
  kept?: number;
  dropped?: Record<string, number>;
  seconds: number;
  cpu_seconds: number;
  prepare_seconds?: number;
  harmony_seconds?: number;
  file_bytes: number;
  peak_rss_bytes: number;
  conversations?: number;
  tokens?: number;
}

async function python(args: string[], timeoutMs = 600_000): Promise<ModeResult> {
  const { stdout } = await run(PYTHON, [path.join(ROOT, 'bench', 'pipeline.py'), ...args], {
    cwd: ROOT,
    timeout: timeoutMs,
    maxBuffer: 16 * MB,
    // The tiny model is built once into the cache the tests use.
    env: { ...process.env, TUNEDECK_MODEL_CACHE: process.env.TUNEDECK_MODEL_CACHE ?? path.join(os.tmpdir(), 'tunedeck-model-cache') },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ModeResult;
}

/** Writes the synthetic files once; later runs reuse them. */
export async function ensureFiles(): Promise<string[]> {
  const written: string[] = [];
  for (const [kind, file] of Object.entries(FILES)) {
    if (existsSync(file)) continue;
    await run(PYTHON, [path.join(ROOT, 'bench', 'travel_csv.py'), kind, file], { cwd: ROOT, timeout: 600_000 });
    written.push(file);
  }
  return written;
}

async function measureFile(label: string, file: string, runs: number, notes: string[]): Promise<Measurement[]> {
  const bare: ModeResult[] = [];
  const pipeline: ModeResult[] = [];
  for (let index = 0; index < runs; index++) {
    bare.push(await python(['bare', file]));
    pipeline.push(await python(['pipeline', file]));
  }

  const bytes = pipeline[0]!.file_bytes;
  const rows = pipeline[0]!.rows;
  const wall = median(pipeline.map((item) => item.seconds));
  const cpu = median(pipeline.map((item) => item.cpu_seconds));
  const bareWall = median(bare.map((item) => item.seconds));
  const bareCpu = median(bare.map((item) => item.cpu_seconds));

  const peak = Math.max(...pipeline.map((item) => item.peak_rss_bytes));
  const harmonyShare = median(pipeline.map((item) => item.harmony_seconds! / item.seconds));
  notes.push(`${label}: ${rows.toLocaleString('en-US')} rows read, ${pipeline[0]!.kept!.toLocaleString('en-US')} kept, dropped ${JSON.stringify(pipeline[0]!.dropped)}.`);

  return [
    {
      name: `${label}: read, parse, clean and Harmony-render (wall clock)`,
      value: round(bytes / MB / wall, 1),
      unit: `MB/s (${Math.round(rows / wall).toLocaleString('en-US')} rows/s)`,
      baseline: { name: 'bare csv.reader pass, MB/s', value: round(bytes / MB / bareWall, 1) },
      ratio: round(bareWall / wall, 3),
      target: `>= ${TARGET_RATIO} of the bare pass`,
      met: bareWall / wall >= TARGET_RATIO,
      runs: pipeline.map((item) => round(bytes / MB / item.seconds, 1)),
    },
    {
      name: `${label}: the same, per CPU second of the process`,
      value: round(bytes / MB / cpu, 1),
      unit: `MB/s (${Math.round(rows / cpu).toLocaleString('en-US')} rows/s); Harmony rendering is ${round(harmonyShare * 100, 1)}% of the time`,
      baseline: { name: 'bare csv.reader pass, MB per CPU second', value: round(bytes / MB / bareCpu, 1) },
      ratio: round(bareCpu / cpu, 3),
      target: `>= ${TARGET_RATIO} of the bare pass`,
      met: bareCpu / cpu >= TARGET_RATIO,
      runs: pipeline.map((item) => round(bytes / MB / item.cpu_seconds, 1)),
    },
    {
      name: `${label}: peak memory (RSS) of the pipeline process`,
      value: round(peak / MB, 0),
      unit: 'MB',
      baseline: { name: 'bare csv.reader pass, MB', value: round(Math.max(...bare.map((item) => item.peak_rss_bytes)) / MB, 0) },
      target: label.startsWith('680') ? `<= ${round(TARGET_PEAK_BYTES / MB, 0)} MB (1 GiB)` : undefined,
      met: label.startsWith('680') ? peak <= TARGET_PEAK_BYTES : undefined,
    },
  ];
}

export async function benchPipeline(options: PipelineOptions): Promise<BenchResult> {
  const written = await ensureFiles();
  const result: BenchResult = {
    title: 'Data pipeline',
    command: 'npm run bench -- pipeline',
    measurements: [],
    notes: [
      'Synthetic files from bench/travel_csv.py in the 9-column schema of soniawmeyer/travel-conversations-finetuning (680 MB: ultrachat and dolly rows; 147 MB: reddit rows; 2% truncated literals), cached in .cache/bench/.',
      'The pipeline pass is finetune.cleaning.prepare_conversations (SHA-256 of the file, CsvReader, row adapters, cleaning, de-duplication) followed by finetune.tokenize.harmony_segments for every kept conversation; each run is a fresh Python process on one core.',
      `Runs per figure: ${options.smallRuns} on the 147 MB file, ${options.largeRuns} on the 680 MB file (the full 680 MB pass takes about a minute on a shared machine).`,
    ],
  };
  if (written.length > 0) result.notes.push(`Generated this run: ${written.map((file) => path.basename(file)).join(', ')}.`);

  const small = await measureFile('147 MB reddit file', FILES.travel_qa, options.smallRuns, result.notes);
  const large = await measureFile('680 MB ultrachat/dolly file', FILES.conversations, options.largeRuns, result.notes);
  result.measurements.push(...small, ...large);

  const tokens = await python(['tokenize', FILES.travel_qa, '--tokenize-seconds', String(options.tokenizeSeconds)]);
  result.measurements.push({
    name: 'tokenization with the tiny tokenizer (tunedeck/tiny-gpt-oss), apart from the pass above',
    value: round(tokens.conversations! / tokens.cpu_seconds, 0),
    unit: `conversations per CPU second (${Math.round(tokens.tokens! / tokens.cpu_seconds).toLocaleString('en-US')} tokens per CPU second)`,
    runs: [round(tokens.conversations! / tokens.seconds, 0)],
  });
  result.notes.push(`Tokenization: ${tokens.conversations} conversations of the 147 MB file within ${options.tokenizeSeconds} s; its runs column shows conversations per wall-clock second.`);
  return result;
}
