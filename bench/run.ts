/**
 * Runs the benchmarks and rewrites docs/benchmarks.md with the figures of this machine.
 *
 *   npm run bench                 all benchmarks, rewrites docs/benchmarks.md
 *   npm run bench -- api startup  only these, printed to stdout; the page is left alone
 *
 * Benchmarks never fail on timing: a missed target is a row marked "no" on the page.
 * The exit status is 1 only when a benchmark could not run at all.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchApi } from './api.js';
import { machineLoad, PYTHON, ROOT, type BenchResult } from './common.js';
import { benchDashboard } from './dashboard.js';
import { benchFanout } from './fanout.js';
import { benchIngest } from './ingest.js';
import { benchPipeline } from './pipeline.js';
import { benchStartup } from './startup.js';

// Sizes chosen so that all benchmarks together finish in under 15 minutes on 2 cores that
// other work shares: 8.5 and 14 minutes in two runs at load averages of 4 to 12.
const BENCHMARKS: Record<string, () => Promise<BenchResult>> = {
  pipeline: () => benchPipeline({ smallRuns: 3, largeRuns: 1, tokenizeSeconds: 15 }),
  ingest: () => benchIngest({ eventsPerRound: 10_000, rounds: 3 }),
  fanout: () =>
    benchFanout({
      subscribers: 1_000,
      burst: { batchSize: 20, batches: 5, intervalMs: 0 },
      paced: { batchSize: 4, batches: 10, intervalMs: 100 },
      rounds: 2,
      timeoutMs: 60_000,
    }),
  api: () => benchApi({ jobs: 100, pointsPerRun: 1_000, requestsPerRound: 100, rounds: 3 }),
  startup: () => benchStartup(3),
  dashboard: () => benchDashboard({ points: 100_000, rounds: 5 }),
};

const PAGE = path.join(ROOT, 'docs', 'benchmarks.md');
const ANALYSIS = path.join(ROOT, 'bench', 'analysis.md');

interface Timed {
  result: BenchResult;
  seconds: number;
  loadBefore: string;
  loadAfter: string;
}

function machine(): string[] {
  const cpus = os.cpus();
  const python = execFileSync(PYTHON, ['--version']).toString().trim();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }).toString().trim();
    if (dirty) commit += ' plus uncommitted changes of other engineers in the working tree';
  } catch {
    // Not a git checkout: the commit stays unknown.
  }
  return [
    `- CPU: ${cpus.length} cores, ${cpus[0]?.model ?? 'unknown model'}`,
    `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${os.type()} ${os.release()}; Node.js ${process.version}; ${python}`,
    `- Code: commit ${commit}`,
  ];
}

function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  return String(value).replace(/\|/g, '\\|');
}

function section(timed: Timed): string[] {
  const { result } = timed;
  const lines = [
    `## ${result.title}`,
    '',
    `Command: \`${result.command}\`; took ${timed.seconds.toFixed(0)} s.`,
    '',
    '| Measure | Median | Unit | Baseline in the same run | Ratio to baseline | Target | Met | Runs |',
    '| --- | ---: | --- | --- | ---: | --- | --- | --- |',
  ];
  for (const item of result.measurements) {
    const baseline = item.baseline ? `${item.baseline.name}: ${item.baseline.value.toLocaleString('en-US')}` : '';
    let met = '';
    if (item.met !== undefined) met = item.met ? 'yes' : '**no**';
    lines.push(
      `| ${cell(item.name)} | ${item.value.toLocaleString('en-US')} | ${cell(item.unit)} | ${cell(baseline)} | ${cell(item.ratio)} | ${cell(item.target)} | ${met} | ${cell(item.runs?.map((value) => value.toLocaleString('en-US')).join(', '))} |`,
    );
  }
  lines.push('');
  for (const note of result.notes) lines.push(`- ${note}`);
  lines.push(`- Machine load at the start: ${timed.loadBefore}.`, `- Machine load at the end: ${timed.loadAfter}.`, '');
  return lines;
}

function page(results: Timed[], started: Date, seconds: number): string {
  const lines = [
    '# Benchmarks',
    '',
    'Figures from one run of `npm run bench` on the machine below. The runner (`bench/run.ts`) rewrites this page; the analysis at the end comes from `bench/analysis.md`.',
    'Each figure is the median of the runs listed beside it. The ratio compares with the closest limit measured in the same run: above 1 means faster than that limit, and 0.5 means half as fast.',
    'Benchmarks never fail a build on timing; a missed target is marked **no**.',
    '',
    `Run started ${started.toISOString()} and took ${(seconds / 60).toFixed(1)} min.`,
    '',
    ...machine(),
    '',
    'Other work may share the machine during a run, so wall-clock figures can include waiting for a core. The load is listed with each benchmark, and the data pipeline also reports CPU time.',
    '',
  ];
  for (const timed of results) lines.push(...section(timed));
  lines.push(readFileSync(ANALYSIS, 'utf8').trim(), '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    console.error(`Unknown benchmark ${unknown.join(', ')}; expected any of: ${Object.keys(BENCHMARKS).join(', ')}.`);
    process.exit(2);
  }
  const names = requested.length > 0 ? requested : Object.keys(BENCHMARKS);
  const started = new Date();
  const results: Timed[] = [];
  let failed = false;

  for (const name of names) {
    console.error(`bench: ${name} starting`);
    const loadBefore = machineLoad();
    const clock = performance.now();
    try {
      const result = await BENCHMARKS[name]!();
      const seconds = (performance.now() - clock) / 1000;
      results.push({ result, seconds, loadBefore, loadAfter: machineLoad() });
      console.error(`bench: ${name} finished in ${seconds.toFixed(0)} s`);
    } catch (error) {
      failed = true;
      console.error(`bench: ${name} failed:`, error);
      results.push({
        result: { title: name, command: `npm run bench -- ${name}`, measurements: [], notes: [`The benchmark failed: ${(error as Error).message.slice(0, 500)}`] },
        seconds: (performance.now() - clock) / 1000,
        loadBefore,
        loadAfter: machineLoad(),
      });
    }
  }

  const text = page(results, started, (Date.now() - started.getTime()) / 1000);
  if (requested.length === 0) {
    writeFileSync(PAGE, text);
    console.error(`bench: wrote ${path.relative(ROOT, PAGE)}`);
  } else {
    process.stdout.write(text);
  }
  process.exit(failed ? 1 : 0);
}

await main();
