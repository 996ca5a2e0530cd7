import type { NormalizedJob } from './input.js';

/**
 * Training speed of each GPU relative to an H100 for LoRA on a 4-bit 20B MoE.
 * These are estimates from published FP16/BF16 throughput ratios, not
 * measurements of this pipeline. Once you have measured your own runs, set the
 * H100 baseline with TUNEDECK_TOKENS_PER_SECOND.
 */
export const GPU_SPEED_VS_H100: Record<string, number> = {
  T4: 0.08,
  L4: 0.15,
  A10G: 0.2,
  L40S: 0.45,
  'A100-40GB': 0.5,
  'A100-80GB': 0.55,
  H100: 1,
  H200: 1.15,
  B200: 1.6,
};

/** Assumed share of each sequence that contains real tokens rather than padding. */
const SEQUENCE_FILL = 0.5;
/** Assumed time to download and prepare one dataset and load the base model, in seconds. */
const SETUP_SECONDS_PER_DATASET = 8 * 60;
/** Assumed time to merge the adapter into the base weights and save them, in seconds. */
const MERGE_SECONDS = 12 * 60;

export interface DatasetEstimate {
  index: number;
  description: string | null;
  steps: number;
  tokens: number;
  durationSeconds: number;
  costUsd: number;
}

export interface JobEstimate {
  durationSeconds: number;
  costUsd: number;
  gpuType: string;
  gpuCount: number;
  pricePerGpuHourUsd: number;
  tokensPerSecond: number;
  datasets: DatasetEstimate[];
  mergeSeconds: number;
  /** The assumptions behind the figures, in words, for display next to them. */
  assumptions: string;
}

/**
 * Estimates duration and cost of a job. Tokens are steps x batch x
 * accumulation x sequence length x fill. Time is tokens / throughput, and
 * cost is time x GPU price x GPU count. Local jobs cost nothing on Modal.
 */
export function estimateJob(
  job: NormalizedJob,
  options: { gpuPrices: Record<string, number>; tokensPerSecond: number },
): JobEstimate {
  const gpuCount = job.gpu.count;
  const speed = (GPU_SPEED_VS_H100[job.gpu.type] ?? 0.5) * gpuCount ** 0.9;
  const tokensPerSecond = options.tokensPerSecond * speed;
  const pricePerGpuHourUsd = job.executor === 'LOCAL' ? 0 : options.gpuPrices[job.gpu.type] ?? 0;
  const costPerSecond = (pricePerGpuHourUsd * gpuCount) / 3600;
  const tokensPerStep = job.training.batchSize * job.training.gradientAccumulationSteps * job.maxSeqLength * SEQUENCE_FILL;

  const datasets = job.datasets.map((dataset, index) => {
    const steps = job.training.maxStepsPerDataset;
    const tokens = Math.round(steps * tokensPerStep);
    const durationSeconds = Math.round(tokens / tokensPerSecond + SETUP_SECONDS_PER_DATASET);
    return {
      index,
      description: dataset.description,
      steps,
      tokens,
      durationSeconds,
      costUsd: roundCents(durationSeconds * costPerSecond),
    };
  });
  const mergeSeconds = job.queue.mergeAdapters ? MERGE_SECONDS : 0;
  const durationSeconds = datasets.reduce((sum, dataset) => sum + dataset.durationSeconds, 0) + mergeSeconds;
  const assumptions =
    `${Math.round(options.tokensPerSecond)} tokens/s on one H100 scaled by ${speed.toFixed(2)} for ${gpuCount} x ${job.gpu.type}; ` +
    `sequences ${SEQUENCE_FILL * 100}% full; ${SETUP_SECONDS_PER_DATASET / 60} min set-up per dataset` +
    (mergeSeconds ? `; ${MERGE_SECONDS / 60} min merge` : '') +
    (job.executor === 'LOCAL' ? '; local executor: no Modal cost, and duration depends on your hardware' : `; $${pricePerGpuHourUsd}/GPU-hour`);
  return {
    durationSeconds,
    costUsd: roundCents(durationSeconds * costPerSecond),
    gpuType: job.gpu.type,
    gpuCount,
    pricePerGpuHourUsd,
    tokensPerSecond: Math.round(tokensPerSecond),
    datasets,
    mergeSeconds,
    assumptions,
  };
}

function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}

/** "2 h 05 min", "12 min", "45 s". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
