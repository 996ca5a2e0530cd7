import { DeploymentStatus, ExecutorKind, JobPhase, JobStatus, ModelStatus, RunStatus } from '../prisma/generated/client/enums.js';
import { builder } from './builder.js';

export const JobStatusEnum = builder.enumType(JobStatus, { name: 'JobStatus' });
export const JobPhaseEnum = builder.enumType(JobPhase, { name: 'JobPhase' });
export const RunStatusEnum = builder.enumType(RunStatus, { name: 'RunStatus' });
export const ExecutorKindEnum = builder.enumType(ExecutorKind, { name: 'ExecutorKind' });
export const ModelStatusEnum = builder.enumType(ModelStatus, { name: 'ModelStatus' });
export const DeploymentStatusEnum = builder.enumType(DeploymentStatus, { name: 'DeploymentStatus' });

export const ReasoningEffortEnum = builder.enumType('ReasoningEffort', {
  description: 'Reasoning effort stated in the Harmony system message of every training sample.',
  values: { LOW: { value: 'low' }, MEDIUM: { value: 'medium' }, HIGH: { value: 'high' } } as const,
});

export const DatasetSourceEnum = builder.enumType('DatasetSource', {
  values: {
    HUGGINGFACE: { description: 'A file in a Hugging Face dataset repo.' },
    LOCAL: { description: 'A file on the machine that runs the pipeline.' },
  } as const,
});

export const RowShapeEnum = builder.enumType('RowShape', {
  description: 'How CSV rows become conversations.',
  values: {
    TRAVEL_LITERAL: { value: 'travel_literal', description: 'The 9-column travel files: a Python-literal `data` column (UltraChat, Dolly or Reddit records).' },
    TRANSCRIPT: { value: 'transcript', description: 'One column with Human:/Assistant: turns.' },
    QUESTION_ANSWER: { value: 'question_answer', description: 'A question column and an answer column.' },
  } as const,
});
