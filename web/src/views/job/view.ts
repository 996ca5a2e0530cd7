import type { OperationResult } from '@urql/core';
import { client, onReconnect } from '../../client.js';
import { ACTIVE_JOB_STATES, progressBar, statusBadge } from '../../components.js';
import { h, replaceChildren, states } from '../../dom.js';
import { databaseId, formatDuration, formatNumber, formatPercent } from '../../format.js';
import type { JobLiveFragment, JobMetricsQuery as JobMetricsQueryData, LogEventFragment, RunItemFragment } from '../../gql/graphql.js';
import { navigate, type View } from '../../router.js';
import { LossChart, type LossPoint } from './chart.js';
import { LogPanel, type LogLine } from './logs.js';
import { CancelJobMutation, JobEventsSubscription, JobMetricsQuery, JobUpdatedSubscription, JobViewQuery, RetryDatasetRunMutation } from './operations.js';
import { renderRun, runLabel } from './runs.js';

type Unsubscribe = { unsubscribe(): void };

/**
 * Job view: live status, progress, metrics, loss chart, runs and logs.
 *
 * Loading order keeps the chart without gaps: read the job (with `lastSeq`), then the stored
 * metrics, then subscribe to jobEvents after `lastSeq`. Each event moves `lastSeq` forward,
 * and after a reconnect the event subscription restarts from it.
 */
export const jobView: View = (container, params) => {
  const jobId = databaseId(params.id);
  const chart = new LossChart();
  const logs = new LogPanel();
  const header = h('div', { class: 'job-head' });
  const summary = h('div', { class: 'cards' });
  const metricCards = h('div', { class: 'cards metric-cards' });
  const runsList = h('ol', { class: 'runs' });
  const message = h('div', { role: 'alert', class: 'job-message' });
  const liveError = h('p', { class: 'state state-error', role: 'alert', hidden: true });
  let job: JobLiveFragment | undefined;
  let lastSeq = 0;
  let eventsSubscription: Unsubscribe | undefined;
  let updatesSubscription: Unsubscribe | undefined;
  let stopReconnect: (() => void) | undefined;
  let disposed = false;

  replaceChildren(container, states.loading('job'));

  function runPositions(): Map<string, number> {
    return new Map((job?.runs ?? []).map((run) => [databaseId(run.id), run.position]));
  }

  function toLogLine(event: LogEventFragment): LogLine {
    return { seq: event.seq, ts: event.ts, level: event.level ?? null, message: event.message ?? null, runPosition: event.runId ? runPositions().get(databaseId(event.runId)) ?? null : null };
  }

  function applyJob(next: JobLiveFragment): void {
    job = next;
    chart.setRuns(next.runs.map((run) => ({ runId: databaseId(run.id), position: run.position, label: `Dataset ${run.position}`, totalSteps: run.totalSteps })));
    logs.setLogsUrl(next.logsUrl);
    renderHeader(next);
    renderSummary(next);
    renderRuns(next.runs);
  }

  function renderHeader(current: JobLiveFragment): void {
    const cancellable = current.status === 'QUEUED' || current.status === 'RUNNING';
    const cancel = h('button', { type: 'button', class: 'danger', disabled: !cancellable, 'aria-disabled': String(!cancellable) }, current.status === 'CANCELLING' ? 'Cancelling…' : 'Cancel job');
    cancel.addEventListener('click', () => void cancelJob(cancel));
    replaceChildren(
      header,
      h('div', {}, h('h1', {}, current.name ?? `Job ${jobId}`), h('p', { class: 'hint' }, `${current.modelName} · ${current.executor} · ${current.gpuCount} × ${current.gpuType}`)),
      h('div', { class: 'job-actions' }, statusBadge(current.status), current.phase ? h('span', { class: 'phase' }, current.phase.toLowerCase()) : null, cancel),
    );
    replaceChildren(
      message,
      current.error ? h('p', { class: 'state state-error' }, current.error) : null,
      current.model ? h('p', { class: 'notice' }, `Registered model ${current.model.name} v${current.model.version}. `, h('a', { href: '#/models' }, 'Open models')) : null,
    );
  }

  function renderSummary(current: JobLiveFragment): void {
    const run = current.currentDataset?.run;
    const currentRun = run ? current.runs.find((candidate) => candidate.id === run.id) : undefined;
    const runProgress = run && run.totalSteps ? (run.step / run.totalSteps) * 100 : 0;
    replaceChildren(
      summary,
      card('Dataset', h('span', { 'data-testid': 'dataset-counter' }, datasetCounterText(current)), currentRun ? h('small', { class: 'block', 'data-testid': 'current-dataset' }, runLabel(currentRun)) : null),
      card('Overall progress', progressBar(current.progressPercent, 'Overall progress'), h('small', { class: 'block' }, `ETA ${etaText(current)}`)),
      card(
        'Current dataset',
        run ? progressBar(runProgress, 'Current dataset progress') : null,
        h('small', { class: 'block', 'data-testid': 'dataset-steps' }, run ? `Step ${run.step} of ${run.totalSteps}` : '—'),
      ),
    );
    const metrics = current.latestMetrics;
    replaceChildren(
      metricCards,
      card('Train loss', h('span', { class: 'metric-value', 'data-metric': 'trainLoss' }, formatNumber(metrics.trainLoss))),
      card('Validation loss', h('span', { class: 'metric-value', 'data-metric': 'evalLoss' }, formatNumber(metrics.evalLoss))),
      card('Learning rate', h('span', { class: 'metric-value', 'data-metric': 'learningRate' }, formatNumber(metrics.learningRate))),
      card('GPU utilisation', h('span', { class: 'metric-value', 'data-metric': 'gpuUtilization' }, formatPercent(metrics.gpuUtilization))),
      card('Tokens/s', h('span', { class: 'metric-value', 'data-metric': 'tokensPerSecond' }, formatNumber(metrics.tokensPerSecond, 3))),
    );
  }

  function renderRuns(runs: RunItemFragment[]): void {
    // Keep open reports open across live re-renders.
    const open = new Set([...runsList.querySelectorAll<HTMLElement>('li.run')].filter((item) => item.querySelector('details')?.open).map((item) => item.dataset.runPosition));
    replaceChildren(runsList, runs.map((run) => renderRun(run, (target, button) => void retryRun(target, button))));
    for (const item of runsList.querySelectorAll<HTMLElement>('li.run')) {
      if (open.has(item.dataset.runPosition)) item.querySelector('details')!.open = true;
    }
  }

  async function cancelJob(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    const result = await client.mutation(CancelJobMutation, { id: jobId }).toPromise();
    if (disposed) return;
    const payload = result.data?.cancelJob;
    if (result.error || !payload) replaceChildren(message, h('p', { class: 'state state-error' }, `Cancel failed: ${result.error?.message ?? 'no data'}`));
    else if (payload.__typename === 'CancelJobSuccess') applyJob(payload.data);
    else replaceChildren(message, h('p', { class: 'state state-error' }, payload.message));
  }

  async function retryRun(run: RunItemFragment, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    const result = await client.mutation(RetryDatasetRunMutation, { runId: databaseId(run.id), idempotencyKey: `retry-${databaseId(run.id)}-${run.attempt}` }).toPromise();
    if (disposed) return;
    button.disabled = false;
    const payload = result.data?.retryDatasetRun;
    if (result.error || !payload) {
      replaceChildren(message, h('p', { class: 'state state-error' }, `Retry failed: ${result.error?.message ?? 'no data'}`));
    } else if (payload.__typename === 'RetryDatasetRunSuccess') {
      const retriedJobId = databaseId(payload.data.id);
      if (retriedJobId !== jobId) navigate(`#/jobs/${encodeURIComponent(retriedJobId)}`);
    } else {
      replaceChildren(message, h('p', { class: 'state state-error' }, payload.message));
    }
  }

  /** Shows a subscription error until the next successful update; graphql-ws keeps retrying meanwhile. */
  function showLiveError(error: { message: string } | undefined): void {
    liveError.hidden = !error;
    liveError.textContent = error ? `Live updates failed: ${error.message}` : '';
  }

  function handleEvent(event: LogEventFragment & { data: unknown }): void {
    if (event.seq <= lastSeq) return;
    lastSeq = event.seq;
    container.dataset.lastSeq = String(lastSeq);
    if (event.type === 'metric' && event.runId) {
      const data = event.data as { step?: number; split?: string; loss?: number | null };
      if (typeof data.step === 'number') chart.add([{ runId: databaseId(event.runId), split: data.split === 'eval' ? 'eval' : 'train', step: data.step, loss: data.loss ?? null }]);
    } else if (event.message !== null && event.message !== undefined) {
      logs.add([toLogLine(event)]);
    }
  }

  function subscribeEvents(): void {
    eventsSubscription?.unsubscribe();
    eventsSubscription = client.subscription(JobEventsSubscription, { jobId, afterSeq: lastSeq }).subscribe((result) => {
      showLiveError(result.error);
      if (result.data) handleEvent(result.data.jobEvents);
    });
  }

  async function loadMetrics(): Promise<boolean> {
    let after: string | null = null;
    for (;;) {
      const result: OperationResult<JobMetricsQueryData> = await client.query(JobMetricsQuery, { id: jobId, after }).toPromise();
      if (disposed) return false;
      const connection = result.data?.job?.metrics;
      if (result.error || !connection) {
        replaceChildren(message, h('p', { class: 'state state-error' }, `Could not load the metric history: ${result.error?.message ?? 'no data'}`));
        return false;
      }
      chart.add(connection.edges.map(({ node }): LossPoint => ({ runId: databaseId(node.runId), split: node.split, step: node.step, loss: node.loss ?? null })));
      if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor) return true;
      after = connection.pageInfo.endCursor;
    }
  }

  async function load(): Promise<void> {
    const result = await client.query(JobViewQuery, { id: jobId }).toPromise();
    if (disposed) return;
    if (result.error) {
      replaceChildren(container, states.error('job', result.error.message), h('p', {}, h('a', { href: '#/jobs' }, 'Back to jobs')));
      return;
    }
    const loaded = result.data?.job;
    if (!loaded) {
      replaceChildren(container, states.empty(`No job with id ${jobId}.`), h('p', {}, h('a', { href: '#/jobs' }, 'Back to jobs')));
      return;
    }
    lastSeq = loaded.lastSeq;
    container.dataset.lastSeq = String(lastSeq);
    replaceChildren(
      container,
      h('p', { class: 'breadcrumb' }, h('a', { href: '#/jobs' }, '← Jobs')),
      header,
      message,
      liveError,
      summary,
      h('section', { 'aria-labelledby': 'metrics-title' }, h('h2', { id: 'metrics-title', class: 'visually-hidden' }, 'Latest metrics'), metricCards),
      chart.element,
      h('section', { 'aria-labelledby': 'runs-title' }, h('h2', { id: 'runs-title' }, 'Datasets'), runsList),
      logs.element,
    );
    applyJob(loaded);
    logs.add(loaded.events.edges.map(({ node }) => toLogLine(node)).filter((line) => line.seq <= lastSeq));
    if (!(await loadMetrics())) return;

    updatesSubscription = client.subscription(JobUpdatedSubscription, { id: jobId }).subscribe((update) => {
      showLiveError(update.error);
      if (update.data) applyJob(update.data.jobUpdated);
    });
    subscribeEvents();
    stopReconnect = onReconnect(subscribeEvents);
  }

  void load();

  return () => {
    disposed = true;
    eventsSubscription?.unsubscribe();
    updatesSubscription?.unsubscribe();
    stopReconnect?.();
    chart.dispose();
  };
};

function datasetCounterText(job: JobLiveFragment): string {
  if (job.currentDataset) return `Dataset ${job.currentDataset.position} of ${job.currentDataset.total}`;
  if (job.totalDatasets === 1) return 'The dataset ended';
  return `All ${job.totalDatasets} datasets ended`;
}

function etaText(job: JobLiveFragment): string {
  if (job.etaSeconds !== null && job.etaSeconds !== undefined) return formatDuration(job.etaSeconds);
  return ACTIVE_JOB_STATES.has(job.status) ? 'Calculating…' : '—';
}

function card(title: string, ...children: (Node | null)[]): HTMLElement {
  return h('div', { class: 'card' }, h('h3', {}, title), ...children);
}
