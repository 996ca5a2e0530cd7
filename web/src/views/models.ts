import { client } from '../client.js';
import { statusBadge } from '../components.js';
import { h, replaceChildren, states } from '../dom.js';
import { databaseId, formatAge, formatNumber } from '../format.js';
import { graphql } from '../gql/index.js';
import type { ModelCardFragment } from '../gql/graphql.js';
import type { View } from '../router.js';

graphql(`
  fragment ModelCard on ModelVersion {
    id
    name
    version
    status
    baseModel
    createdAt
    gateReason
    deploymentStatus
    lineage
    metrics {
      finalTrainLoss
      finalEvalLoss
      perplexity
    }
    job {
      id
      name
    }
  }
`);

const ModelsQuery = graphql(`
  query Models($first: Int) {
    models(first: $first) {
      totalCount
      edges {
        node {
          ...ModelCard
        }
      }
    }
  }
`);

const PAGE_SIZE = 50;

/** Buttons whose mutations the API does not offer yet; each click explains that instead of failing silently. */
const UNAVAILABLE_ACTIONS = ['Deploy', 'Test', 'Delete'] as const;

interface LineageRun {
  index?: number;
  description?: string | null;
  file?: string | null;
  path?: string | null;
  datasetSha256?: string | null;
}

/** Models view: registered versions with metrics, lineage and deployment status. */
export const modelsView: View = (container) => {
  let disposed = false;
  const body = h('div', {}, states.loading('models'));
  replaceChildren(container, h('div', { class: 'view-head' }, h('h1', {}, 'Models')), body);

  void (async () => {
    const result = await client.query(ModelsQuery, { first: PAGE_SIZE }).toPromise();
    if (disposed) return;
    if (result.error || !result.data) {
      replaceChildren(body, states.error('models', result.error?.message ?? 'no data'));
      return;
    }
    const models = result.data.models.edges.map(({ node }) => node);
    if (models.length === 0) {
      replaceChildren(body, states.empty('No models yet. A job registers a model version when it succeeds.'));
      return;
    }
    replaceChildren(body, h('ul', { class: 'model-grid' }, models.map(renderModel)));
  })();

  return () => {
    disposed = true;
  };
};

function renderModel(model: ModelCardFragment): HTMLLIElement {
  const notice = h('p', { class: 'hint', 'aria-live': 'polite' });
  const lineage = (model.lineage ?? {}) as { runs?: LineageRun[] };
  const runs = Array.isArray(lineage.runs) ? lineage.runs : [];
  return h(
    'li',
    { class: 'card model-card', 'data-model-name': model.name },
    h('h2', {}, `${model.name} `, h('span', { class: 'version' }, `v${model.version}`)),
    h('p', { class: 'hint' }, `${model.baseModel} · ${formatAge(model.createdAt)}`),
    h('p', {}, 'Status ', statusBadge(model.status), ' · Deployment ', model.deploymentStatus ? statusBadge(model.deploymentStatus) : h('span', { class: 'hint' }, 'not deployed')),
    model.gateReason ? h('p', { class: 'state state-error' }, model.gateReason) : null,
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
      h(
        'ol',
        { class: 'lineage' },
        runs.map((run) => h('li', {}, run.description || run.file || run.path || 'dataset', run.datasetSha256 ? h('small', { class: 'hint block' }, `sha256 ${run.datasetSha256.slice(0, 16)}…`) : null)),
      ),
    ),
    h(
      'div',
      { class: 'model-actions' },
      UNAVAILABLE_ACTIONS.map((action) =>
        h('button', { type: 'button', class: 'small', onclick: () => (notice.textContent = `${action} is not available yet: the API has no mutation for it.`) }, action),
      ),
    ),
    notice,
  );
}
