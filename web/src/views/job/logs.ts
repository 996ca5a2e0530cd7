import { apiHeaders, reportRejectedKey } from '../../api-key.js';
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
/** Lines kept in the page; older ones stay available through the download button. */
export const MAX_LOG_LINES = 500;
/** How long a downloaded log's blob URL stays valid; the browser has read the blob well before. */
const BLOB_URL_LIFETIME_MS = 30_000;

function levelIndex(level: string | null): number {
  const index = LEVELS.indexOf(level ?? 'info');
  return index < 0 ? 1 : index;
}

/** Live log panel: newest line at the bottom, capped, filtered by minimum level, with a download button. */
export class LogPanel {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'log-lines', tabindex: '0', 'aria-label': 'Log lines' });
  private readonly levelSelect = h('select', { id: 'log-level' }, LEVELS.map((level) => h('option', { value: level }, level)));
  // A button, not a link: the download needs the Authorization header, which a plain link cannot send.
  private readonly download = h('button', { type: 'button', class: 'button', disabled: true }, 'Download logs');
  private readonly note = h('small', { class: 'hint' });
  private readonly downloadError = h('p', { class: 'state state-error', role: 'alert', hidden: true });
  private lines: LogLine[] = [];
  private lastSeq = 0;
  private logsUrl = '';

  constructor() {
    this.levelSelect.value = 'info';
    this.levelSelect.addEventListener('change', () => this.render());
    this.download.addEventListener('click', () => void this.downloadLogs());
    this.element = h(
      'section',
      { class: 'logs', 'aria-labelledby': 'logs-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'logs-title' }, 'Logs'), h('label', { for: 'log-level' }, 'Minimum level'), this.levelSelect, this.download),
      this.downloadError,
      this.list,
      this.note,
    );
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

  setLogsUrl(url: string): void {
    this.logsUrl = url;
    this.download.disabled = !url;
  }

  /** URL of the log file at the selected minimum level. */
  private downloadUrl(): URL {
    const url = new URL(this.logsUrl, window.location.href);
    url.searchParams.set('level', this.levelSelect.value);
    return url;
  }

  /** Fetches the whole log with the API key and saves it under the server's file name. */
  private async downloadLogs(): Promise<void> {
    if (!this.logsUrl) return;
    this.download.disabled = true;
    this.downloadError.hidden = true;
    try {
      const response = await fetch(this.downloadUrl(), { headers: apiHeaders() });
      if (!response.ok) {
        if (response.status === 401) reportRejectedKey();
        const detail = response.status === 401 ? 'API key missing, invalid or revoked' : (await response.text()).trim() || response.statusText;
        throw new Error(`HTTP ${response.status}: ${detail}`);
      }
      saveBlob(await response.blob(), fileNameOf(response) ?? 'tunedeck-job.log');
    } catch (error) {
      this.downloadError.textContent = `Could not download the logs: ${(error as Error).message}`;
      this.downloadError.hidden = false;
    } finally {
      this.download.disabled = false;
    }
  }

  private render(): void {
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

/** File name from a `content-disposition: attachment; filename="…"` header. */
function fileNameOf(response: Response): string | null {
  const match = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '');
  return match ? match[1]! : null;
}

function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The click starts the download asynchronously, so the blob URL must outlive this call.
  setTimeout(() => URL.revokeObjectURL(url), BLOB_URL_LIFETIME_MS);
}
