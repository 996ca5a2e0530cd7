import type { PipelineEvent, StageRequest, StageResult } from './contract.js';

/** Result of one poll of a running stage. */
export interface StagePoll {
  /** Events received since the last poll, in the order they were sent. */
  events: unknown[];
  /**
   * running: the stage is alive (or its state is not yet known);
   * finished: the stage ended and `result` contains its outcome;
   * lost: the stage is gone without a result (crash, killed, preempted and not restarted).
   */
  state: 'running' | 'finished' | 'lost';
  result?: StageResult;
  /** Reason the stage was lost, for the run's error field. */
  reason?: string;
}

/** Hardware a stage requests; the local executor runs on whatever the machine has. */
export interface StageResources {
  gpuType: string;
  gpuCount: number;
  timeoutHours: number;
}

/** A missing credential, app or program, with the command that fixes it. */
export class ExecutorUnavailableError extends Error {
  override name = 'ExecutorUnavailableError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/**
 * Runs pipeline stages somewhere: a local child process or a Modal function.
 * Every method is safe to call again after a server restart; the executor
 * keeps no state that the database does not also hold (the `ref`).
 */
export interface Executor {
  readonly kind: 'LOCAL' | 'MODAL';
  /** Checks credentials, deployment and programs; throws ExecutorUnavailableError. */
  preflight(): Promise<void>;
  /** Folder (local disk or Modal Volume path) under which a job's stages write. */
  jobOutputDir(jobId: string): string;
  /** Starts a stage and returns its handle, which the caller stores at once. */
  start(request: StageRequest, resources: StageResources): Promise<string>;
  /** Reads new events and the stage's state. */
  poll(ref: string, request: StageRequest): Promise<StagePoll>;
  /** Asks the stage to stop; returns true once it is confirmed gone. Repeating it is harmless. */
  cancel(ref: string): Promise<boolean>;
  close(): Promise<void>;
}

export type { PipelineEvent, StageRequest, StageResult };
