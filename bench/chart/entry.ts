// Renders a large loss chart in the browser and reports the time to the first drawn frame.
// bench/dashboard.ts builds this page with Vite and calls the functions below through Playwright.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { LossChart, type LossPoint } from '../../web/src/views/job/chart.js';

/** Train losses for `count` steps split over two runs, with an eval point every 100 steps. */
function lossPoints(count: number): LossPoint[] {
  const points: LossPoint[] = [];
  const half = Math.floor(count / 2);
  for (let index = 0; index < count; index++) {
    const runId = index < half ? 'run-1' : 'run-2';
    const step = index < half ? index + 1 : index - half + 1;
    const split = step % 100 === 0 ? 'eval' : 'train';
    points.push({ runId, split, step, loss: 3 / Math.sqrt(index + 1) + Math.sin(index) * 0.05 });
  }
  return points;
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** Adds the points to the dashboard's LossChart and returns milliseconds until the frame that draws them has run. */
async function renderDashboardChart(count: number): Promise<number> {
  const points = lossPoints(count);
  const chart = new LossChart();
  document.body.append(chart.element);
  chart.setRuns([
    { runId: 'run-1', position: 1, label: 'Dataset 1', totalSteps: Math.floor(count / 2) },
    { runId: 'run-2', position: 2, label: 'Dataset 2', totalSteps: count - Math.floor(count / 2) },
  ]);
  await nextFrame();
  const started = performance.now();
  chart.add(points);
  await nextFrame();
  const elapsed = performance.now() - started;
  if (!chart.element.querySelector('canvas')) throw new Error('LossChart drew no canvas');
  chart.dispose();
  chart.element.remove();
  return elapsed;
}

/** Draws the same number of points with uPlot directly, the floor for the chart module. */
async function renderBareUplot(count: number): Promise<number> {
  const xs = Array.from({ length: count }, (_, index) => index + 1);
  const ys = xs.map((x) => 3 / Math.sqrt(x) + Math.sin(x) * 0.05);
  const host = document.createElement('div');
  document.body.append(host);
  await nextFrame();
  const started = performance.now();
  const plot = new uPlot({ width: 1200, height: 260, scales: { x: { time: false } }, series: [{}, { stroke: '#2563eb', width: 2 }] }, [xs, ys], host);
  await nextFrame();
  const elapsed = performance.now() - started;
  plot.destroy();
  host.remove();
  return elapsed;
}

Object.assign(window, { renderDashboardChart, renderBareUplot });
