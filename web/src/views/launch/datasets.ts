import { h, replaceChildren } from '../../dom.js';
import { field, numberInput, readNumber, readText, select, textInput } from './fields.js';
import { DEFAULT_DATASETS, DEFAULTS, LIMITS, TRAVEL_REPO } from './limits.js';
import type { DatasetValues } from './validate.js';

const SOURCE_OPTIONS = [
  { value: 'HUGGINGFACE', label: 'Hugging Face dataset repo' },
  { value: 'LOCAL', label: 'Local file' },
];

export function defaultDatasets(): DatasetValues[] {
  return DEFAULT_DATASETS.map((dataset, index) => ({
    source: 'HUGGINGFACE',
    repo: TRAVEL_REPO,
    file: dataset.file,
    path: '',
    description: dataset.description,
    priority: index + 1,
    trainSplit: DEFAULTS.trainSplit,
    maxRows: null,
  }));
}

/**
 * The ordered dataset list of the launch form: add, remove, move up and down. Moving a dataset
 * swaps its priority with its neighbour's, so the list order and the training order agree.
 */
export class DatasetList {
  readonly element = h('ol', { class: 'dataset-list' });

  constructor(
    private readonly form: HTMLFormElement,
    private readonly onChange: () => void,
  ) {}

  read(): DatasetValues[] {
    const count = this.element.children.length;
    return Array.from({ length: count }, (_, index) => {
      const at = `datasets[${index}]`;
      const maxRows = readText(this.form, `${at}.maxRows`).trim();
      return {
        source: readText(this.form, `${at}.source`) === 'LOCAL' ? 'LOCAL' : 'HUGGINGFACE',
        repo: readText(this.form, `${at}.repo`),
        file: readText(this.form, `${at}.file`),
        path: readText(this.form, `${at}.path`),
        description: readText(this.form, `${at}.description`),
        priority: readNumber(this.form, `${at}.priority`),
        trainSplit: readNumber(this.form, `${at}.trainSplit`),
        maxRows: maxRows === '' ? null : Number(maxRows),
      };
    });
  }

  render(datasets: DatasetValues[], focusPath?: string): void {
    replaceChildren(this.element, datasets.map((dataset, index) => this.renderItem(dataset, index, datasets.length)));
    if (focusPath) (this.form.elements.namedItem(focusPath) as HTMLElement | null)?.focus();
  }

  add(): void {
    const datasets = this.read();
    if (datasets.length >= LIMITS.maxDatasets) return;
    const priorities = datasets.map((dataset) => dataset.priority).filter(Number.isFinite);
    datasets.push({
      source: 'LOCAL',
      repo: '',
      file: '',
      path: '',
      description: '',
      priority: priorities.length ? Math.max(...priorities) + 1 : 1,
      trainSplit: DEFAULTS.trainSplit,
      maxRows: null,
    });
    this.render(datasets, `datasets[${datasets.length - 1}].path`);
    this.onChange();
  }

  private remove(index: number): void {
    const datasets = this.read();
    datasets.splice(index, 1);
    const focusIndex = Math.min(index, datasets.length - 1);
    this.render(datasets, focusIndex >= 0 ? `datasets[${focusIndex}].description` : undefined);
    this.onChange();
  }

  private move(index: number, offset: -1 | 1): void {
    const datasets = this.read();
    const target = index + offset;
    if (target < 0 || target >= datasets.length) return;
    const moved = datasets[index];
    const other = datasets[target];
    [moved.priority, other.priority] = [other.priority, moved.priority];
    datasets[index] = other;
    datasets[target] = moved;
    this.render(datasets);
    const button = this.element.children[target]?.querySelector<HTMLButtonElement>(offset < 0 ? '[data-action="up"]' : '[data-action="down"]');
    (button && !button.disabled ? button : this.element.children[target]?.querySelector<HTMLElement>('select'))?.focus();
    this.onChange();
  }

  private renderItem(dataset: DatasetValues, index: number, count: number): HTMLLIElement {
    const at = `datasets[${index}]`;
    const source = select(SOURCE_OPTIONS, dataset.source);
    const hubFields = h(
      'div',
      { class: 'field-row', hidden: dataset.source !== 'HUGGINGFACE' },
      field(`${at}.repo`, 'Repo', textInput(dataset.repo, { placeholder: 'owner/name', autocomplete: 'off' })),
      field(`${at}.file`, 'File', textInput(dataset.file, { placeholder: 'data.csv', autocomplete: 'off' })),
    );
    const localFields = h(
      'div',
      { class: 'field-row', hidden: dataset.source !== 'LOCAL' },
      field(`${at}.path`, 'Path', textInput(dataset.path, { placeholder: '/absolute/path/data.csv', autocomplete: 'off' }), 'Absolute path on the machine that runs the pipeline.'),
    );
    source.addEventListener('change', () => {
      hubFields.hidden = source.value !== 'HUGGINGFACE';
      localFields.hidden = source.value !== 'LOCAL';
    });
    const label = dataset.description || dataset.file || dataset.path || `Dataset ${index + 1}`;
    return h(
      'li',
      { class: 'dataset-item', 'aria-label': `Dataset ${index + 1}` },
      h(
        'div',
        { class: 'dataset-head' },
        h('span', { class: 'dataset-position', 'aria-hidden': 'true' }, `${index + 1}.`),
        h('span', { class: 'dataset-title' }, label),
        h(
          'span',
          { class: 'dataset-actions' },
          h('button', { type: 'button', class: 'small', 'data-action': 'up', disabled: index === 0, 'aria-label': `Move dataset ${index + 1} up`, onclick: () => this.move(index, -1) }, '↑'),
          h('button', { type: 'button', class: 'small', 'data-action': 'down', disabled: index === count - 1, 'aria-label': `Move dataset ${index + 1} down`, onclick: () => this.move(index, 1) }, '↓'),
          h('button', { type: 'button', class: 'small danger', 'data-action': 'remove', 'aria-label': `Remove dataset ${index + 1}`, onclick: () => this.remove(index) }, 'Remove'),
        ),
      ),
      h(
        'div',
        { class: 'field-row' },
        field(`${at}.source`, 'Source', source),
        field(`${at}.priority`, 'Priority', numberInput(dataset.priority, { step: 1 }), 'Lower trains first; unique.'),
        field(`${at}.trainSplit`, 'Train split', numberInput(dataset.trainSplit, { step: 0.05, min: 0, max: 1 }), 'Share for training; the rest validates.'),
        field(`${at}.maxRows`, 'Max rows', numberInput(dataset.maxRows ?? '', { step: 1, min: 1, placeholder: 'all' })),
      ),
      hubFields,
      localFields,
      field(`${at}.description`, 'Description', textInput(dataset.description, { autocomplete: 'off' })),
    );
  }
}
