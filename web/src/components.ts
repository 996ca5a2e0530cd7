import { h } from './dom.js';

/** Status badge; the class picks the colour and the text carries the meaning for screen readers. */
export function statusBadge(status: string): HTMLSpanElement {
  return h('span', { class: `badge badge-${status.toLowerCase()}`, 'data-status': status }, status.charAt(0) + status.slice(1).toLowerCase());
}

/** Native progress element with a visible percentage label. */
export function progressBar(percent: number, label: string, size: 'large' | 'small' = 'large'): HTMLElement {
  const clamped = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
  return h(
    'div',
    { class: `progress progress-${size}` },
    h('progress', { max: 100, value: clamped.toFixed(1), 'aria-label': label }),
    h('span', { class: 'progress-text' }, `${clamped.toFixed(clamped < 10 ? 1 : 0)}%`),
  );
}

/** Job states in which a job can still change. */
export const ACTIVE_JOB_STATES = new Set(['QUEUED', 'RUNNING', 'CANCELLING']);
