import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../../dom.js';
import { formatNumber } from '../../format.js';

/** One loss value as the chart stores it; `step` is the optimizer step within its run, from 1. */
export interface LossPoint {
  runId: string;
  split: string;
  step: number;
  loss: number | null;
}

/** A dataset run's place on the shared x axis. */
export interface RunSpan {
  runId: string;
  position: number;
  label: string;
  totalSteps: number;
}

const CHART_HEIGHT = 260;

/**
 * Live train and eval loss per step. Runs are laid end to end on one x axis (run 2's step 1
 * follows run 1's last step), with a dashed line at each dataset boundary. Points are keyed by
 * (run, split, step), so a replayed or repeated point replaces the earlier one instead of adding one.
 */
export class LossChart {
  readonly element: HTMLElement;
  private readonly plotHost = h('div', { class: 'chart-plot' });
  private readonly empty = h('p', { class: 'state state-empty' }, 'No loss values yet. They appear once training logs its first step.');
  private readonly table = h('details', { class: 'chart-table' }, h('summary', {}, 'Loss values as a table'));
  private readonly points = new Map<string, LossPoint>();
  private spans: RunSpan[] = [];
  private offsets = new Map<string, number>();
  private plot: uPlot | undefined;
  private frame = 0;
  private readonly resizeObserver: ResizeObserver;

  constructor() {
    this.element = h('section', { class: 'chart', 'aria-labelledby': 'chart-title' }, h('h2', { id: 'chart-title' }, 'Loss'), this.empty, this.plotHost, this.table);
    this.table.addEventListener('toggle', () => this.renderTable());
    this.resizeObserver = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: CHART_HEIGHT }));
    this.resizeObserver.observe(this.plotHost);
  }

  setRuns(spans: RunSpan[]): void {
    const changed = JSON.stringify(spans) !== JSON.stringify(this.spans);
    if (!changed) return;
    this.spans = [...spans].sort((a, b) => a.position - b.position);
    let offset = 0;
    this.offsets = new Map();
    for (const span of this.spans) {
      this.offsets.set(span.runId, offset);
      offset += span.totalSteps;
    }
    this.scheduleRedraw();
  }

  add(points: LossPoint[]): void {
    for (const point of points) this.points.set(`${point.runId}|${point.split}|${point.step}`, point);
    if (points.length > 0) this.scheduleRedraw();
  }

  /** Keys `run|split|step` of every stored point, for comparing with the server's metrics. */
  keys(): string[] {
    return [...this.points.keys()];
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
    this.plot?.destroy();
  }

  private width(): number {
    return Math.max(240, this.plotHost.clientWidth || 600);
  }

  private scheduleRedraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw();
    });
  }

  private series(): uPlot.AlignedData {
    const byX = new Map<number, [number | null, number | null]>();
    for (const point of this.points.values()) {
      const x = (this.offsets.get(point.runId) ?? 0) + point.step;
      const row = byX.get(x) ?? [null, null];
      row[point.split === 'eval' ? 1 : 0] = point.loss;
      byX.set(x, row);
    }
    const xs = [...byX.keys()].sort((a, b) => a - b);
    return [xs, xs.map((x) => byX.get(x)![0]), xs.map((x) => byX.get(x)![1])];
  }

  private redraw(): void {
    this.empty.hidden = this.points.size > 0;
    this.plotHost.hidden = this.points.size === 0;
    this.element.dataset.trainPoints = String([...this.points.values()].filter((point) => point.split !== 'eval').length);
    this.element.dataset.evalPoints = String([...this.points.values()].filter((point) => point.split === 'eval').length);
    if (this.points.size === 0) return;
    const data = this.series();
    if (!this.plot) this.plot = new uPlot(this.options(), data, this.plotHost);
    else this.plot.setData(data);
    if (this.table.open) this.renderTable();
  }

  private options(): uPlot.Options {
    // A boundary sits half a step before the next dataset's first step (steps count from 1).
    const boundaries = () => this.spans.slice(1).map((span) => ({ x: (this.offsets.get(span.runId) ?? 0) + 0.5, label: span.label }));
    return {
      width: this.width(),
      height: CHART_HEIGHT,
      scales: { x: { time: false } },
      // Whole-step tick spacing, so a short run does not get ticks at fractional steps.
      axes: [{ label: 'Step (datasets in training order)', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000] }, { label: 'Loss' }],
      series: [
        { label: 'Step' },
        { label: 'Train loss', stroke: '#2563eb', width: 2, spanGaps: true },
        { label: 'Eval loss', stroke: '#dc2626', width: 0, spanGaps: true, points: { show: true, size: 8, fill: '#dc2626' } },
      ],
      hooks: {
        draw: [
          (plot) => {
            const { ctx } = plot;
            const { top, height } = plot.bbox;
            ctx.save();
            ctx.strokeStyle = '#6b7280';
            ctx.fillStyle = '#374151';
            ctx.setLineDash([6, 4]);
            ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
            for (const boundary of boundaries()) {
              const x = Math.round(plot.valToPos(boundary.x, 'x', true));
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + height);
              ctx.stroke();
              ctx.fillText(boundary.label, x + 4, top + 14 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  private renderTable(): void {
    if (!this.table.open) {
      this.table.querySelector('table')?.remove();
      return;
    }
    const positions = new Map(this.spans.map((span) => [span.runId, span.position]));
    const sorted = [...this.points.values()].sort((a, b) => (positions.get(a.runId) ?? 0) - (positions.get(b.runId) ?? 0) || a.step - b.step || a.split.localeCompare(b.split));
    const table = h(
      'table',
      { class: 'loss-table' },
      h('thead', {}, h('tr', {}, ['Dataset', 'Split', 'Step', 'Loss'].map((title) => h('th', { scope: 'col' }, title)))),
      h(
        'tbody',
        {},
        sorted.map((point) =>
          h('tr', { 'data-key': `${point.runId}|${point.split}|${point.step}` }, h('td', {}, String(positions.get(point.runId) ?? '?')), h('td', {}, point.split), h('td', {}, point.step), h('td', {}, formatNumber(point.loss))),
        ),
      ),
    );
    const existing = this.table.querySelector('table');
    if (existing) existing.replaceWith(table);
    else this.table.append(table);
  }
}

