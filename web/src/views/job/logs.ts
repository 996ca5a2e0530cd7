import { h, replaceChildren } from '../../dom.js';

/** A log line as the panel stores it. */
export interface LogLine {
  seq: number;
  ts: string;
  level: string | null;
  message: string | null;
  runPosition: number | null;
}

const LEVELS = ['debug', 'info', 'warning', 'error'];
/** Lines kept in the page; older ones stay available through the download link. */
export const MAX_LOG_LINES = 500;

function levelIndex(level: string | null): number {
  const index = LEVELS.indexOf(level ?? 'info');
  return index < 0 ? 1 : index;
}

/** Live log panel: newest line at the bottom, capped, filtered by minimum level, with a download link. */
export class LogPanel {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'log-lines', tabindex: '0', 'aria-label': 'Log lines' });
  private readonly levelSelect = h('select', { id: 'log-level' }, LEVELS.map((level) => h('option', { value: level }, level)));
  private readonly download = h('a', { class: 'button', download: '' }, 'Download logs');
  private readonly note = h('small', { class: 'hint' });
  private lines: LogLine[] = [];
  private lastSeq = 0;
  private logsUrl = '';

  constructor() {
    this.levelSelect.value = 'info';
    this.levelSelect.addEventListener('change', () => this.render());
    this.element = h(
      'section',
      { class: 'logs', 'aria-labelledby': 'logs-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'logs-title' }, 'Logs'), h('label', { for: 'log-level' }, 'Minimum level'), this.levelSelect, this.download),
      this.list,
      this.note,
    );
  }

  setLogsUrl(url: string): void {
    this.logsUrl = url;
    this.updateDownload();
  }

  /** Appends lines newer than the newest one shown; replayed lines are skipped by `seq`. */
  add(lines: LogLine[]): void {
    const fresh = lines.filter((line) => line.seq > this.lastSeq && line.message !== null);
    if (fresh.length === 0) return;
    this.lastSeq = Math.max(this.lastSeq, ...fresh.map((line) => line.seq));
    this.lines.push(...fresh);
    if (this.lines.length > MAX_LOG_LINES) this.lines.splice(0, this.lines.length - MAX_LOG_LINES);
    this.render();
  }

  private updateDownload(): void {
    if (!this.logsUrl) return;
    const url = new URL(this.logsUrl, window.location.href);
    url.searchParams.set('level', this.levelSelect.value);
    this.download.href = url.pathname + url.search;
  }

  private render(): void {
    this.updateDownload();
    const atBottom = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 8;
    const minimum = levelIndex(this.levelSelect.value);
    const shown = this.lines.filter((line) => levelIndex(line.level) >= minimum);
    if (shown.length === 0) {
      replaceChildren(this.list, h('li', { class: 'state state-empty' }, this.lines.length ? 'No lines at this level yet.' : 'No log lines yet.'));
    } else {
      replaceChildren(
        this.list,
        shown.map((line) =>
          h(
            'li',
            { class: `log-line log-${line.level ?? 'info'}`, 'data-seq': line.seq },
            h('time', { datetime: line.ts }, line.ts.slice(11, 19)),
            ' ',
            h('span', { class: 'log-level' }, (line.level ?? 'info').toUpperCase()),
            line.runPosition ? ` [dataset ${line.runPosition}] ` : ' ',
            line.message,
          ),
        ),
      );
    }
    this.note.textContent = this.lines.length >= MAX_LOG_LINES ? `Showing the newest ${MAX_LOG_LINES} lines; download the logs for all of them.` : '';
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }
}
