import { client } from '../../client.js';
import { h, replaceChildren, states } from '../../dom.js';
import type { View } from '../../router.js';
import { ModelCardView } from './card.js';
import { ModelsQuery } from './operations.js';

const PAGE_SIZE = 50;

/** Models view: registered versions with metrics, lineage, deployment state and actions. */
export const modelsView: View = (container) => {
  let disposed = false;
  const cards = new Set<ModelCardView>();
  const body = h('div', {}, states.loading('models'));
  const count = h('p', { class: 'hint' });
  const grid = h('ul', { class: 'model-grid' });
  replaceChildren(container, h('div', { class: 'view-head' }, h('h1', {}, 'Models')), count, body);

  function showEmpty(): void {
    count.textContent = '';
    replaceChildren(body, states.empty('No models yet. A job registers a model version when it succeeds.'));
  }

  function removeCard(card: ModelCardView): void {
    card.dispose();
    card.element.remove();
    cards.delete(card);
    if (cards.size === 0) showEmpty();
  }

  void (async () => {
    const result = await client.query(ModelsQuery, { first: PAGE_SIZE }).toPromise();
    if (disposed) return;
    if (result.error || !result.data) {
      replaceChildren(body, states.error('models', result.error?.message ?? 'no data'));
      return;
    }
    const { edges, totalCount } = result.data.models;
    if (edges.length === 0) {
      showEmpty();
      return;
    }
    if (totalCount > edges.length) count.textContent = `Showing the newest ${edges.length} of ${totalCount} versions.`;
    for (const { node } of edges) {
      const card = new ModelCardView(node, removeCard);
      cards.add(card);
      grid.append(card.element);
    }
    replaceChildren(body, grid);
  })();

  return () => {
    disposed = true;
    for (const card of cards) card.dispose();
  };
};
