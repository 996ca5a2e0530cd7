import { client } from '../../client.js';
import { statusBadge } from '../../components.js';
import { h, replaceChildren, type Child } from '../../dom.js';
import { databaseId, formatAge, formatNumber } from '../../format.js';
import type { ModelCardFragment } from '../../gql/graphql.js';
import { DeleteModelMutation, DeployModelMutation, ModelUpdatedSubscription, RollbackDeploymentMutation, TestModelMutation, UndeployModelMutation } from './operations.js';

/** Deployment states in which a version is serving or about to serve. */
const ACTIVE_DEPLOYMENT = new Set(['PENDING', 'DEPLOYING', 'READY']);

interface LineageRun {
  description?: string | null;
  file?: string | null;
  path?: string | null;
  datasetSha256?: string | null;
}

type Completion = { answer: string; reasoning?: string | null; latencyMs: number };

function renderCompletion(title: string, completion: Completion): HTMLElement {
  return h(
    'div',
    { class: 'completion' },
    h('h3', {}, `${title} · ${completion.latencyMs} ms`),
    h('p', { class: 'answer' }, completion.answer),
    completion.reasoning ? h('details', {}, h('summary', {}, 'Reasoning'), h('p', {}, completion.reasoning)) : null,
  );
}

/**
 * One model version: metrics, lineage, deployment state and its actions (deploy, undeploy,
 * roll back, test, delete). The card follows `modelUpdated`, so verification and deployment
 * progress show without a reload.
 */
export class ModelCardView {
  readonly element: HTMLLIElement;
  private readonly body = h('div', {});
  private readonly notice = h('p', { class: 'hint model-notice', 'aria-live': 'polite' });
  private readonly testResult = h('div', { class: 'test-result', 'aria-live': 'polite' });
  private readonly testForm: HTMLFormElement;
  private readonly subscription: { unsubscribe(): void };
  private busy = false;

  constructor(
    private model: ModelCardFragment,
    private readonly onDeleted: (card: ModelCardView) => void,
  ) {
    const prompt = h('textarea', { id: `prompt-${databaseId(model.id)}`, name: 'prompt', rows: 3, required: true, placeholder: 'Plan two days in Lisbon for a first-time visitor.' });
    const compare = h('input', { type: 'checkbox', id: `compare-${databaseId(model.id)}`, name: 'compareWithBase' });
    this.testForm = h(
      'form',
      { class: 'test-form', hidden: true, 'aria-label': `Test ${model.name} v${model.version}` },
      h('label', { for: prompt.id }, 'Prompt'),
      prompt,
      h('div', { class: 'field-checkbox' }, compare, h('label', { for: compare.id }, 'Compare with the base model')),
      h('button', { type: 'submit', class: 'primary small' }, 'Send prompt'),
      this.testResult,
    );
    this.testForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.runTest(prompt.value, compare.checked);
    });
    this.element = h('li', { class: 'card model-card', 'data-model-name': model.name, 'data-model-version': model.version }, this.body, this.notice, this.testForm);
    this.render();
    this.subscription = client.subscription(ModelUpdatedSubscription, { id: databaseId(model.id) }).subscribe((result) => {
      if (result.data) this.update(result.data.modelUpdated);
    });
  }

  update(model: ModelCardFragment): void {
    // A notice such as "Deployment pending." is out of date once the deployment moves on.
    if (model.deploymentStatus !== this.model.deploymentStatus) this.notice.textContent = '';
    this.model = model;
    this.render();
  }

  dispose(): void {
    this.subscription.unsubscribe();
  }

  private newestDeployment() {
    return [...this.model.deployments].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
  }

  private render(): void {
    const model = this.model;
    const deployment = this.newestDeployment();
    const active = model.deploymentStatus !== null && model.deploymentStatus !== undefined && ACTIVE_DEPLOYMENT.has(model.deploymentStatus);
    const ready = model.deploymentStatus === 'READY';
    const lineage = (model.lineage ?? {}) as { runs?: LineageRun[] };
    const runs = Array.isArray(lineage.runs) ? lineage.runs : [];
    if (!ready) this.testForm.hidden = true;

    replaceChildren(
      this.body,
      h('h2', {}, `${model.name} `, h('span', { class: 'version' }, `v${model.version}`)),
      h('p', { class: 'hint' }, `${model.baseModel} · ${formatAge(model.createdAt)}`),
      h('p', {}, 'Status ', statusBadge(model.status), ' · Deployment ', model.deploymentStatus ? statusBadge(model.deploymentStatus) : h('span', { class: 'hint' }, 'not deployed')),
      this.statusNote(),
      deployment?.endpointUrl && ready ? h('p', { class: 'endpoint' }, 'Endpoint ', h('code', {}, deployment.endpointUrl)) : null,
      deployment?.error ? h('p', { class: 'state state-error' }, `Deployment failed: ${deployment.error}`) : null,
      h(
        'dl',
        { class: 'model-metrics' },
        h('dt', {}, 'Final loss'),
        h('dd', { 'data-metric': 'finalTrainLoss' }, formatNumber(model.metrics.finalTrainLoss)),
        h('dt', {}, 'Eval loss'),
        h('dd', {}, formatNumber(model.metrics.finalEvalLoss)),
        h('dt', {}, 'Perplexity'),
        h('dd', { 'data-metric': 'perplexity' }, formatNumber(model.metrics.perplexity)),
      ),
      h(
        'details',
        {},
        h('summary', {}, 'Lineage'),
        h('p', {}, 'Job ', h('a', { href: `#/jobs/${encodeURIComponent(databaseId(model.job.id))}` }, model.job.name ?? databaseId(model.job.id))),
        h('ol', { class: 'lineage' }, runs.map((run) => h('li', {}, run.description || run.file || run.path || 'dataset', run.datasetSha256 ? h('small', { class: 'hint block' }, `sha256 ${run.datasetSha256.slice(0, 16)}…`) : null))),
      ),
      h(
        'div',
        { class: 'model-actions' },
        this.button('Deploy', model.status !== 'DEPLOYABLE' || active, () => this.deploy()),
        this.button('Undeploy', !active, () => this.undeploy()),
        this.button('Roll back', !ready, () => this.rollback()),
        this.button('Test', !ready, () => this.toggleTest()),
        this.button('Delete', active, () => this.delete(), 'danger'),
      ),
    );
  }

  private statusNote(): Child {
    const model = this.model;
    if (model.status === 'NOT_DEPLOYABLE') return h('p', { class: 'state state-error' }, `Not deployable: ${model.gateReason ?? 'the merge verification failed'}`);
    if (model.status === 'REGISTERED' || model.status === 'VERIFYING') return h('p', { class: 'hint' }, 'Verifying the merged weights; Deploy is enabled once the check passes.');
    if (model.deploymentStatus === 'PENDING' || model.deploymentStatus === 'DEPLOYING') return h('p', { class: 'hint' }, 'Starting the endpoint; Test is enabled once it is ready.');
    return null;
  }

  private button(label: string, disabled: boolean, action: () => Promise<void> | void, variant = ''): HTMLButtonElement {
    const button = h('button', { type: 'button', class: `small ${variant}`.trim(), disabled: disabled || this.busy }, label);
    button.addEventListener('click', () => void this.act(action));
    return button;
  }

  /** Runs one action at a time per card; the buttons stay disabled until it returns. */
  private async act(action: () => Promise<void> | void): Promise<void> {
    this.busy = true;
    this.render();
    try {
      await action();
    } finally {
      this.busy = false;
      if (this.element.isConnected) this.render();
    }
  }

  private async deploy(): Promise<void> {
    this.notice.textContent = 'Deploying…';
    const result = await client.mutation(DeployModelMutation, { modelId: databaseId(this.model.id) }).toPromise();
    const payload = result.data?.deployModel;
    if (result.error || !payload) this.notice.textContent = `Deploy failed: ${result.error?.message ?? 'no data'}`;
    else if (payload.__typename === 'DeployModelSuccess') this.notice.textContent = `Deployment ${payload.data.status.toLowerCase()}.`;
    else this.notice.textContent = payload.message;
  }

  private async undeploy(): Promise<void> {
    const result = await client.mutation(UndeployModelMutation, { modelId: databaseId(this.model.id) }).toPromise();
    const payload = result.data?.undeployModel;
    if (result.error || !payload) this.notice.textContent = `Undeploy failed: ${result.error?.message ?? 'no data'}`;
    else if (payload.__typename === 'UndeployModelSuccess') {
      this.notice.textContent = 'Deployment stopped.';
      this.model = payload.data;
    } else this.notice.textContent = payload.message;
  }

  private async rollback(): Promise<void> {
    const result = await client.mutation(RollbackDeploymentMutation, { modelId: databaseId(this.model.id) }).toPromise();
    const payload = result.data?.rollbackDeployment;
    if (result.error || !payload) this.notice.textContent = `Roll back failed: ${result.error?.message ?? 'no data'}`;
    else if (payload.__typename === 'RollbackDeploymentSuccess') this.notice.textContent = 'Rolled back to the previous version; reload to see its card update.';
    else this.notice.textContent = payload.message;
  }

  private async delete(): Promise<void> {
    if (!window.confirm(`Delete ${this.model.name} v${this.model.version} and its merged weights?`)) return;
    const result = await client.mutation(DeleteModelMutation, { modelId: databaseId(this.model.id) }).toPromise();
    const payload = result.data?.deleteModel;
    if (result.error || !payload) this.notice.textContent = `Delete failed: ${result.error?.message ?? 'no data'}`;
    else if (payload.__typename === 'DeleteModelSuccess') this.onDeleted(this);
    else this.notice.textContent = payload.message;
  }

  private toggleTest(): void {
    this.testForm.hidden = !this.testForm.hidden;
    if (!this.testForm.hidden) this.testForm.querySelector('textarea')?.focus();
  }

  private async runTest(prompt: string, compareWithBase: boolean): Promise<void> {
    if (!prompt.trim()) {
      replaceChildren(this.testResult, h('p', { class: 'field-error' }, 'Write a prompt first.'));
      return;
    }
    replaceChildren(this.testResult, h('p', { class: 'state state-loading' }, 'Waiting for the answer…'));
    const result = await client.mutation(TestModelMutation, { modelId: databaseId(this.model.id), prompt, compareWithBase }).toPromise();
    const payload = result.data?.testModel;
    if (result.error || !payload) {
      replaceChildren(this.testResult, h('p', { class: 'state state-error' }, `Test failed: ${result.error?.message ?? 'no data'}`));
    } else if (payload.__typename === 'TestModelSuccess') {
      replaceChildren(this.testResult, renderCompletion('Fine-tuned', payload.data.model), payload.data.base ? renderCompletion('Base model', payload.data.base) : null);
    } else {
      replaceChildren(this.testResult, h('p', { class: 'state state-error' }, payload.message));
    }
  }
}
