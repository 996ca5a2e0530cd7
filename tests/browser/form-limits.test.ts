import { describe, expect, it } from 'vitest';
import { DEFAULTS as SERVER_DEFAULTS, LIMITS as SERVER_LIMITS, validateLaunchInput, type LaunchJobInput as ServerLaunchInput } from '../../server/jobs/input.js';
import { DEFAULTS, LIMITS } from '../../web/src/views/launch/limits.js';
import { toLaunchInput, validateForm, type FormValues } from '../../web/src/views/launch/validate.js';

/** Returns valid two-dataset form values, as the launch form reads them. */
function validForm(): FormValues {
  return {
    name: 'travel',
    modelName: 'openai/gpt-oss-20b',
    maxSeqLength: 2048,
    reasoningEffort: 'LOW',
    executor: '',
    datasets: [
      { source: 'HUGGINGFACE', repo: 'soniawmeyer/travel-conversations-finetuning', file: 'a.csv', path: '', description: '', priority: 1, trainSplit: 0.9, maxRows: null },
      { source: 'LOCAL', repo: '', file: '', path: '/data/b.csv', description: '', priority: 2, trainSplit: 0.9, maxRows: null },
    ],
    training: {
      maxStepsPerDataset: 1000,
      learningRate: 2e-4,
      batchSize: 4,
      gradientAccumulationSteps: 8,
      warmupSteps: 100,
      loraRank: 16,
      loraAlpha: 32,
      loraDropout: 0,
      checkpointEvery: 100,
      saveCheckpointBetweenDatasets: true,
      evalEnabled: true,
    },
    gpu: { type: 'H100', count: 1, timeoutHours: 12 },
    queue: { continueOnFailure: false, mergeAdapters: true },
  };
}

/**
 * Builds the input the form sends, in the server's input type. The GraphQL enum values the form
 * uses (reasoning effort `LOW`) are mapped to lower case by the API layer, which this test skips.
 */
function toServerInput(values: FormValues): ServerLaunchInput {
  const input = toLaunchInput(values, null);
  return { ...input, reasoningEffort: null } as ServerLaunchInput;
}

const cases: [string, (form: FormValues) => void][] = [
  ['steps below 10', (form) => (form.training.maxStepsPerDataset = 9)],
  ['steps above 10,000', (form) => ((form.training.maxStepsPerDataset = 10_001), (form.training.warmupSteps = 10))],
  ['learning rate too low', (form) => (form.training.learningRate = 9e-6)],
  ['learning rate too high', (form) => (form.training.learningRate = 0.011)],
  ['batch size 3', (form) => (form.training.batchSize = 3)],
  ['LoRA rank 12', (form) => (form.training.loraRank = 12)],
  ['alpha 7', (form) => (form.training.loraAlpha = 7)],
  ['alpha 129', (form) => (form.training.loraAlpha = 129)],
  ['warmup equal to steps', (form) => (form.training.warmupSteps = 1000)],
  ['sequence length 511', (form) => (form.maxSeqLength = 511)],
  ['sequence length 4097', (form) => (form.maxSeqLength = 4097)],
  ['timeout 1 hour', (form) => (form.gpu.timeoutHours = 1)],
  ['timeout 25 hours', (form) => (form.gpu.timeoutHours = 25)],
  ['train split 0', (form) => (form.datasets[0].trainSplit = 0)],
  ['train split 1', (form) => (form.datasets[1].trainSplit = 1)],
  ['duplicate priority', (form) => (form.datasets[1].priority = 1)],
  ['relative local path', (form) => (form.datasets[1].path = 'b.csv')],
  ['repo without owner', (form) => (form.datasets[0].repo = 'travel')],
  ['no datasets', (form) => (form.datasets = [])],
];

describe('launch form limits', () => {
  it('match the server limits', () => {
    expect(LIMITS).toMatchObject(SERVER_LIMITS);
    for (const [key, value] of Object.entries(DEFAULTS.training)) {
      expect(value, `DEFAULTS.training.${key}`).toBe(SERVER_DEFAULTS.training[key as keyof typeof SERVER_DEFAULTS.training]);
    }
    expect(DEFAULTS.gpu).toEqual(SERVER_DEFAULTS.gpu);
    expect(DEFAULTS.maxSeqLength).toBe(SERVER_DEFAULTS.maxSeqLength);
    expect(DEFAULTS.trainSplit).toBe(SERVER_DEFAULTS.trainSplit);
  });

  it('valid form passes both checks', () => {
    const form = validForm();
    expect([...validateForm(form).keys()]).toEqual([]);
    expect(validateLaunchInput(toServerInput(form), { gpuTypes: ['H100'], defaultExecutor: 'LOCAL' }).ok).toBe(true);
  });

  it.each(cases)('%s fails on the same field', (_name, change) => {
    const form = validForm();
    change(form);
    const server = validateLaunchInput(toServerInput(form), { gpuTypes: ['H100'], defaultExecutor: 'LOCAL' });
    const serverPaths = server.ok ? [] : server.errors.map((error) => error.path);

    const clientPaths = [...validateForm(form).keys()];

    expect(serverPaths.length).toBeGreaterThan(0);
    expect(clientPaths.sort()).toEqual(serverPaths.sort());
  });
});
