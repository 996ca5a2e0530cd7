import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Deployment, ModelVersion, PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { InvalidState, NotFound, ValidationFailed } from '../jobs/service.js';
import { complete, isHealthy, type Completion, type DeploymentRuntime } from './runtime.js';

export interface EndpointConfig {
  gpuType?: string | null;
  maxConcurrentRequests?: number | null;
  autoScale?: boolean | null;
  idleTimeoutSeconds?: number | null;
}

export interface TestResult {
  prompt: string;
  model: Completion;
  base: Completion | null;
}

export interface DeploymentServiceOptions {
  prisma: PrismaClient;
  pubsub: PubSub;
  logger: Logger;
  runtimes: Partial<Record<'LOCAL' | 'MODAL', DeploymentRuntime>>;
  /** Folder whose contents deleteModel may remove; artifacts elsewhere are left alone. */
  dataDir: string;
  /** Seconds a deployment may take to pass its health check. */
  readyTimeoutSeconds?: number;
  pollIntervalMs?: number;
}

const ACTIVE: Deployment['status'][] = ['PENDING', 'DEPLOYING', 'READY'];

/**
 * Model versions after training: the merge verification gate, deployments
 * (PENDING -> DEPLOYING -> READY or FAILED, STOPPED after undeploy), rollback,
 * test prompts and deletion. A background loop drives gates and deployments
 * from the database, like the job orchestrator.
 */
export class DeploymentService {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = true;
  private readonly verifying = new Set<string>();
  private readonly gates = new Set<Promise<void>>();

  constructor(private readonly options: DeploymentServiceOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.allSettled([...this.gates]);
  }

  kick(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = true;
      this.pass()
        .catch((error) => this.options.logger.error({ err: error }, 'deployment pass failed'))
        .finally(() => {
          this.running = false;
          if (!this.stopped) this.schedule(this.options.pollIntervalMs ?? 500);
        });
    }, delay);
  }

  private runtimeFor(model: ModelVersion & { job: { executor: 'LOCAL' | 'MODAL' } }): DeploymentRuntime {
    const runtime = this.options.runtimes[model.job.executor];
    if (!runtime) throw new Error(`No deployment runtime for ${model.job.executor} on this server.`);
    return runtime;
  }

  private changed(modelId: string): void {
    this.options.pubsub.publish('model:updated', { modelId });
  }

  /** Runs one pass: verifies new model versions, then advances every active deployment. */
  async pass(): Promise<void> {
    const { prisma, logger } = this.options;
    const pending = await prisma.modelVersion.findMany({ where: { status: 'REGISTERED' }, include: { job: { select: { executor: true } } } });
    for (const model of pending) {
      if (this.stopped) return;
      if (this.verifying.has(model.id)) continue;
      // A gate can take many minutes on Modal, so it runs beside the pass instead of inside it.
      this.verifying.add(model.id);
      const gate: Promise<void> = this.verify(model)
        .catch((error) => logger.error({ err: error, modelId: model.id }, 'merge verification failed to run'))
        .finally(() => {
          this.verifying.delete(model.id);
          this.gates.delete(gate);
        });
      this.gates.add(gate);
    }
    const deployments = await prisma.deployment.findMany({ where: { status: { in: ['PENDING', 'DEPLOYING', 'READY'] } }, include: { model: { include: { job: { select: { executor: true } } } } } });
    for (const deployment of deployments) {
      if (this.stopped) return;
      try {
        await this.advance(deployment);
      } catch (error) {
        logger.error({ err: error, deploymentId: deployment.id }, 'deployment step failed; retried on the next pass');
      }
    }
  }

  private async verify(model: ModelVersion & { job: { executor: 'LOCAL' | 'MODAL' } }): Promise<void> {
    const { prisma, logger } = this.options;
    const claimed = await prisma.modelVersion.updateMany({ where: { id: model.id, status: 'REGISTERED' }, data: { status: 'VERIFYING' } });
    if (claimed.count === 0) return;
    this.changed(model.id);
    let status: 'DEPLOYABLE' | 'NOT_DEPLOYABLE' = 'NOT_DEPLOYABLE';
    let reason: string | null;
    if (!model.mergedPath) {
      reason = 'The job did not merge its adapter (mergeAdapters was off), so there are no weights to serve. Launch again with mergeAdapters on.';
    } else {
      try {
        const result = await this.runtimeFor(model).verify(model.mergedPath, model.baseModel);
        status = result.deployable ? 'DEPLOYABLE' : 'NOT_DEPLOYABLE';
        reason = result.deployable ? null : result.reason ?? 'The merged model failed verification.';
      } catch (error) {
        reason = `Verification could not run: ${(error as Error).message}`;
      }
    }
    await prisma.modelVersion.update({ where: { id: model.id }, data: { status, gateReason: reason } });
    logger.info({ modelId: model.id, status, reason }, 'merge verification finished');
    this.changed(model.id);
  }

  private async advance(deployment: Deployment & { model: ModelVersion & { job: { executor: 'LOCAL' | 'MODAL' } } }): Promise<void> {
    const { prisma, logger } = this.options;
    const runtime = this.runtimeFor(deployment.model);
    if (deployment.status === 'PENDING') {
      const moved = await prisma.deployment.updateMany({ where: { id: deployment.id, status: 'PENDING' }, data: { status: 'DEPLOYING' } });
      if (moved.count === 0) return;
      const { ref, endpointUrl } = await runtime.start(deployment.id, deployment.model.mergedPath!, deployment);
      await prisma.deployment.update({ where: { id: deployment.id }, data: { externalRef: ref, endpointUrl } });
      this.changed(deployment.modelId);
      return;
    }
    if (!deployment.externalRef) return;
    const alive = await runtime.isAlive(deployment.externalRef);
    const onPurpose = alive ? null : await runtime.stoppedOnPurpose?.(deployment.externalRef);
    if (onPurpose) {
      await prisma.deployment.updateMany({ where: { id: deployment.id, status: { in: ACTIVE } }, data: { status: 'STOPPED', error: onPurpose, stoppedAt: new Date() } });
      logger.info({ deploymentId: deployment.id, modelId: deployment.modelId, reason: onPurpose }, 'deployment stopped by itself');
      this.changed(deployment.modelId);
      return;
    }
    if (!alive) {
      const tail = await runtime.describeFailure(deployment.externalRef);
      await this.fail(deployment, `The model server stopped unexpectedly.${tail ? ` Last log lines:\n${tail}` : ''}`);
      return;
    }
    if (deployment.status === 'DEPLOYING') {
      let endpointUrl = deployment.endpointUrl;
      if (!endpointUrl) {
        endpointUrl = await runtime.endpoint(deployment.externalRef);
        if (endpointUrl) await prisma.deployment.update({ where: { id: deployment.id }, data: { endpointUrl } });
      }
      if (endpointUrl && (await isHealthy(endpointUrl))) {
        await prisma.deployment.updateMany({ where: { id: deployment.id, status: 'DEPLOYING' }, data: { status: 'READY', readyAt: new Date() } });
        logger.info({ deploymentId: deployment.id, modelId: deployment.modelId, endpointUrl: deployment.endpointUrl }, 'deployment ready');
        this.changed(deployment.modelId);
      } else if (Date.now() - deployment.updatedAt.getTime() > (this.options.readyTimeoutSeconds ?? 600) * 1000) {
        await runtime.stop(deployment.externalRef);
        await this.fail(deployment, `The model server did not pass its health check within ${this.options.readyTimeoutSeconds ?? 600} s.`);
      }
    }
  }

  private async fail(deployment: Deployment, reason: string): Promise<void> {
    await this.options.prisma.deployment.updateMany({ where: { id: deployment.id, status: { in: ACTIVE } }, data: { status: 'FAILED', error: reason, stoppedAt: new Date() } });
    this.options.logger.warn({ deploymentId: deployment.id, modelId: deployment.modelId, reason }, 'deployment failed');
    this.changed(deployment.modelId);
  }

  private async model(modelId: string) {
    const model = await this.options.prisma.modelVersion.findUnique({ where: { id: modelId }, include: { job: { select: { executor: true } } } });
    if (!model) throw new NotFound(`No model version with id ${modelId}.`);
    return model;
  }

  /** Creates a PENDING deployment of a verified model version; the loop starts it. */
  async deploy(modelId: string, config: EndpointConfig): Promise<Deployment> {
    const { prisma, logger } = this.options;
    const model = await this.model(modelId);
    if (model.status !== 'DEPLOYABLE') {
      const why = model.status === 'NOT_DEPLOYABLE' ? `it failed the merge verification gate: ${model.gateReason}` : `its merge verification is still ${model.status === 'VERIFYING' ? 'running' : 'pending'}; try again shortly`;
      throw new InvalidState(`Model ${model.name} v${model.version} cannot be deployed: ${why}`, model.status);
    }
    const errors = [];
    const maxConcurrentRequests = config.maxConcurrentRequests ?? 10;
    const idleTimeoutSeconds = config.idleTimeoutSeconds ?? 300;
    if (!Number.isInteger(maxConcurrentRequests) || maxConcurrentRequests < 1 || maxConcurrentRequests > 256) {
      errors.push({ path: 'endpointConfig.maxConcurrentRequests', message: 'endpointConfig.maxConcurrentRequests must be a whole number from 1 to 256.', value: String(maxConcurrentRequests), allowed: '1 to 256' });
    }
    if (!Number.isInteger(idleTimeoutSeconds) || idleTimeoutSeconds < 60 || idleTimeoutSeconds > 86_400) {
      errors.push({ path: 'endpointConfig.idleTimeoutSeconds', message: 'endpointConfig.idleTimeoutSeconds must be a whole number from 60 to 86400.', value: String(idleTimeoutSeconds), allowed: '60 to 86400 seconds' });
    }
    if (errors.length > 0) throw new ValidationFailed(errors);
    const active = await prisma.deployment.findFirst({ where: { modelId, status: { in: ACTIVE } } });
    if (active) return active;
    const deployment = await prisma.deployment.create({
      data: {
        modelId,
        executor: model.job.executor,
        // Merged bf16 GPT-OSS 20B weights take about 42 GB, so an 80 GB GPU leaves room for the KV cache.
        gpuType: config.gpuType ?? 'H100',
        maxConcurrentRequests,
        autoScale: config.autoScale ?? true,
        idleTimeoutSeconds,
      },
    });
    logger.info({ deploymentId: deployment.id, modelId }, 'deployment requested');
    this.changed(modelId);
    this.kick();
    return deployment;
  }

  /** Stops every active deployment of a model version; harmless when none is active. */
  async undeploy(modelId: string): Promise<ModelVersion> {
    const { prisma, logger } = this.options;
    const model = await this.model(modelId);
    const active = await prisma.deployment.findMany({ where: { modelId, status: { in: ACTIVE } } });
    for (const deployment of active) {
      // Record STOPPED before stopping the process, so the background pass does not see
      // the process gone and mark the deployment FAILED in between.
      await prisma.deployment.updateMany({ where: { id: deployment.id, status: { in: ACTIVE } }, data: { status: 'STOPPED', stoppedAt: new Date() } });
      if (deployment.externalRef) await this.runtimeFor(model).stop(deployment.externalRef);
      logger.info({ deploymentId: deployment.id, modelId }, 'deployment stopped');
    }
    this.changed(modelId);
    return model;
  }

  /**
   * Rolls back to the previous version of the same model name that was
   * deployed before: deploys it with the same endpoint settings, then stops
   * the current one.
   */
  async rollback(modelId: string): Promise<Deployment> {
    const { prisma } = this.options;
    const current = await this.model(modelId);
    const currentDeployment = await prisma.deployment.findFirst({ where: { modelId, status: { in: ACTIVE } }, orderBy: { createdAt: 'desc' } });
    if (!currentDeployment) throw new InvalidState(`Model ${current.name} v${current.version} has no active deployment to roll back from.`, current.status);
    const previous = await prisma.modelVersion.findFirst({
      where: { name: current.name, version: { lt: current.version }, status: 'DEPLOYABLE', deployments: { some: { status: { in: ['READY', 'STOPPED'] }, readyAt: { not: null } } } },
      orderBy: { version: 'desc' },
    });
    if (!previous) throw new InvalidState(`No earlier version of ${current.name} was ever deployed, so there is nothing to roll back to.`, current.status);
    const deployment = await this.deploy(previous.id, currentDeployment);
    await this.undeploy(modelId);
    return deployment;
  }

  /** Deletes a model version and its artifacts under the data folder; rejected while deployed. */
  async delete(modelId: string): Promise<string> {
    const { prisma, logger } = this.options;
    const model = await this.model(modelId);
    const active = await prisma.deployment.count({ where: { modelId, status: { in: ACTIVE } } });
    if (active > 0) throw new InvalidState(`Model ${model.name} v${model.version} is deployed; undeploy it before deleting.`, 'DEPLOYED');
    await prisma.modelVersion.delete({ where: { id: modelId } });
    const root = path.resolve(this.options.dataDir);
    for (const artifact of [model.mergedPath]) {
      if (artifact && path.resolve(artifact).startsWith(`${root}${path.sep}`)) await rm(artifact, { recursive: true, force: true });
    }
    logger.info({ modelId, name: model.name, version: model.version }, 'model version deleted');
    this.changed(modelId);
    return modelId;
  }

  /** Sends a prompt to the model's READY deployment, and to the base model when asked. */
  async test(modelId: string, prompt: string, reasoningEffort: string, compareWithBase: boolean): Promise<TestResult> {
    const model = await this.model(modelId);
    if (!prompt.trim()) throw new ValidationFailed([{ path: 'prompt', message: 'prompt must not be empty.', value: JSON.stringify(prompt), allowed: 'a non-empty text' }]);
    const ready = await this.options.prisma.deployment.findFirst({ where: { modelId, status: 'READY' }, orderBy: { createdAt: 'desc' } });
    if (!ready?.endpointUrl) throw new InvalidState(`Model ${model.name} v${model.version} has no READY deployment; deploy it first.`, model.status);
    const [answer, base] = await Promise.all([
      complete(ready.endpointUrl, prompt, reasoningEffort),
      compareWithBase ? this.runtimeFor(model).generateWithBase(model.baseModel, prompt, reasoningEffort) : Promise.resolve(null),
    ]);
    return { prompt, model: answer, base };
  }
}
