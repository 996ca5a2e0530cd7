import { progressBar, statusBadge } from '../../components.js';
import { h, type Child } from '../../dom.js';
import { formatNumber } from '../../format.js';
import type { RunItemFragment } from '../../gql/graphql.js';

/** Name shown for a dataset run: its description, else its file or path. */
export function runLabel(run: Pick<RunItemFragment, 'description' | 'file' | 'path' | 'position'>): string {
  return run.description || run.file || run.path?.split('/').pop() || `Dataset ${run.position}`;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function asNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Data-processing report: rows read and kept, drops per reason, split sizes and warnings. */
function renderReport(report: unknown): Child {
  const data = asRecord(report);
  if (!data) return h('p', { class: 'hint' }, 'No data report yet.');
  const dropped = asRecord(data.dropped) ?? {};
  const warnings = Array.isArray(data.warnings) ? data.warnings.map(String) : [];
  const rows: [string, string][] = [
    ['Row shape', String(data.shape ?? '—')],
    ['Rows read', formatNumber(asNumber(data.rows_read), 12)],
    ['Rows kept', formatNumber(asNumber(data.rows_kept), 12)],
    ...Object.entries(dropped).map(([reason, count]): [string, string] => [`Dropped: ${reason.replace(/_/g, ' ')}`, formatNumber(asNumber(count), 12)]),
    ['Prompts trimmed', formatNumber(asNumber(data.trimmed), 12)],
    ['Train rows', formatNumber(asNumber(data.train_rows), 12)],
    ['Validation rows', formatNumber(asNumber(data.validation_rows), 12)],
  ];
  return h(
    'div',
    { class: 'report' },
    h('dl', {}, rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
    warnings.length ? h('ul', { class: 'warnings' }, warnings.map((warning) => h('li', {}, warning))) : null,
  );
}

function renderFinalMetrics(metrics: unknown): Child {
  const data = asRecord(metrics);
  if (!data) return null;
  return h(
    'p',
    { class: 'final-metrics' },
    `Final train loss ${formatNumber(asNumber(data.final_train_loss))} · eval loss ${formatNumber(asNumber(data.eval_loss))} · perplexity ${formatNumber(asNumber(data.perplexity))}`,
  );
}

/** Renders one dataset run: status, mini progress bar, final metrics, data report, and a retry button when it failed. */
export function renderRun(run: RunItemFragment, onRetry: (run: RunItemFragment, button: HTMLButtonElement) => void): HTMLLIElement {
  const retry = h('button', { type: 'button', class: 'small' }, 'Retry this dataset');
  retry.addEventListener('click', () => onRetry(run, retry));
  const source = run.source === 'HUGGINGFACE' ? `${run.repo}/${run.file}` : run.path;
  return h(
    'li',
    { class: 'run', 'data-run-position': run.position, 'data-run-status': run.status },
    h('div', { class: 'run-head' }, h('strong', {}, `${run.position}. ${runLabel(run)}`), statusBadge(run.status), run.attempt > 1 ? h('small', { class: 'hint' }, `attempt ${run.attempt}`) : null),
    h('small', { class: 'hint block' }, source),
    progressBar(run.progressPercent, `Progress of dataset ${run.position}`, 'small'),
    h('small', { class: 'hint' }, `Step ${run.step} of ${run.totalSteps}`),
    renderFinalMetrics(run.finalMetrics),
    run.error ? h('p', { class: 'run-error', role: 'alert' }, run.error) : null,
    run.status === 'FAILED' ? retry : null,
    h('details', {}, h('summary', {}, 'Data-processing report'), renderReport(run.report)),
  );
}
