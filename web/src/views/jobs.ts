import { client } from '../client.js';
import { progressBar, statusBadge } from '../components.js';
import { h, replaceChildren, states } from '../dom.js';
import { databaseId, formatAge } from '../format.js';
import { graphql } from '../gql/index.js';
import type { JobRowFragment, JobStatus } from '../gql/graphql.js';
import type { View } from '../router.js';

graphql(`
  fragment JobRow on Job {
    id
    name
    status
    phase
    progressPercent
    createdAt
    modelName
    executor
    totalDatasets
    datasetsCompleted
    currentDataset {
      position
      total
    }
  }
`);

const JobsQuery = graphql(`
  query Jobs($filter: JobFilter, $first: Int) {
    jobs(filter: $filter, first: $first) {
      totalCount
      edges {
        node {
          ...JobRow
        }
      }
    }
  }
`);

const JobsChangedSubscription = graphql(`
  subscription JobsChanged {
    jobsChanged {
      ...JobRow
    }
  }
`);


const STATUSES: JobStatus[] = ['QUEUED', 'RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const PAGE_SIZE = 50;
/** Coalesces bursts of jobsChanged notifications into one list reload. */
const RELOAD_DEBOUNCE_MS = 300;

/** Jobs list: newest first, filterable by status, kept current by the jobsChanged subscription. */
export const jobsView: View = (container) => {
  const filter = h('select', { id: 'jobs-filter' }, h('option', { value: '' }, 'All'), STATUSES.map((status) => h('option', { value: status }, status.charAt(0) + status.slice(1).toLowerCase())));
  const body = h('div', { class: 'jobs-body' });
  const count = h('p', { class: 'hint', 'aria-live': 'polite' });
  let request = 0;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  let ageTimer: ReturnType<typeof setInterval> | undefined;
  let rows = new Map<string, HTMLTableRowElement>();

  replaceChildren(
    container,
    h('div', { class: 'view-head' }, h('h1', {}, 'Jobs'), h('a', { class: 'button primary', href: '#/launch' }, 'Launch a job')),
    h('div', { class: 'toolbar' }, h('label', { for: 'jobs-filter' }, 'Status'), filter, count),
    body,
  );

  async function load(showLoading: boolean): Promise<void> {
    const current = ++request;
    if (showLoading) replaceChildren(body, states.loading('jobs'));
    const status = filter.value as JobStatus | '';
    const result = await client.query(JobsQuery, { filter: status ? { status: [status] } : null, first: PAGE_SIZE }).toPromise();
    if (current !== request) return;
    if (result.error || !result.data) {
      replaceChildren(body, states.error('jobs', result.error?.message ?? 'no data'));
      return;
    }
    const { edges, totalCount } = result.data.jobs;
    count.textContent = totalCount > edges.length ? `Showing the newest ${edges.length} of ${totalCount}.` : `${totalCount} job${totalCount === 1 ? '' : 's'}.`;
    if (edges.length === 0) {
      replaceChildren(body, states.empty(status ? `No ${status.toLowerCase()} jobs.` : 'No jobs yet. Launch one to start.'));
      rows = new Map();
      return;
    }
    rows = new Map(edges.map(({ node }) => [node.id, renderRow(node)]));
    replaceChildren(
      body,
      h(
        'table',
        { class: 'jobs-table' },
        h('thead', {}, h('tr', {}, ['Job', 'Status', 'Progress', 'Datasets', 'Created'].map((title) => h('th', { scope: 'col' }, title)))),
        h('tbody', {}, [...rows.values()]),
      ),
    );
  }

  function scheduleReload(): void {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void load(false), RELOAD_DEBOUNCE_MS);
  }

  filter.addEventListener('change', () => void load(true));
  const subscription = client.subscription(JobsChangedSubscription, {}).subscribe((result) => {
    const job = result.data?.jobsChanged;
    if (!job) return;
    const row = rows.get(job.id);
    const status = filter.value;
    if (row && (!status || status === job.status)) row.replaceWith(renderRowAndStore(job));
    else scheduleReload();
  });
  ageTimer = setInterval(() => {
    for (const cell of container.querySelectorAll<HTMLElement>('[data-created]')) cell.textContent = formatAge(cell.dataset.created!);
  }, 30_000);
  void load(true);

  function renderRowAndStore(job: JobRowFragment): HTMLTableRowElement {
    const row = renderRow(job);
    rows.set(job.id, row);
    return row;
  }

  return () => {
    subscription.unsubscribe();
    clearTimeout(reloadTimer);
    clearInterval(ageTimer);
    request++;
  };
};

function renderRow(job: JobRowFragment): HTMLTableRowElement {
  const href = `#/jobs/${encodeURIComponent(databaseId(job.id))}`;
  const datasets = job.currentDataset ? `${job.currentDataset.position} of ${job.currentDataset.total}` : `${job.datasetsCompleted} of ${job.totalDatasets} ended`;
  return h(
    'tr',
    { 'data-job-id': databaseId(job.id) },
    h('td', { 'data-label': 'Job' }, h('a', { href }, job.name ?? databaseId(job.id)), h('small', { class: 'hint block' }, `${job.modelName} · ${job.executor}`)),
    h('td', { 'data-label': 'Status' }, statusBadge(job.status), job.phase ? h('small', { class: 'hint block' }, job.phase.toLowerCase()) : null),
    h('td', { 'data-label': 'Progress' }, progressBar(job.progressPercent, `Progress of ${job.name ?? 'job'}`, 'small')),
    h('td', { 'data-label': 'Datasets' }, datasets),
    h('td', { 'data-label': 'Created', 'data-created': job.createdAt, title: job.createdAt }, formatAge(job.createdAt)),
  );
}
