import { h, type Child } from '../../dom.js';

let fieldCounter = 0;

/** Turns a field path such as `datasets[1].priority` into a string usable in element ids. */
function slug(path: string): string {
  return path.replace(/[^\w]+/g, '-');
}

/**
 * Wraps a control with its label, hint and error slot. The control gets `name` = path, so
 * the form reads values and places server field errors (which name the same paths) by path.
 */
export function field(path: string, label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  const id = `field-${slug(path)}-${++fieldCounter}`;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : '';
  control.id = id;
  control.name = path;
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  const isCheckbox = control instanceof HTMLInputElement && control.type === 'checkbox';
  const labelElement = h('label', { for: id }, label);
  return h(
    'div',
    { class: isCheckbox ? 'field field-checkbox' : 'field', 'data-field': path },
    isCheckbox ? [control, labelElement] : [labelElement, control],
    hint ? h('small', { id: hintId, class: 'hint' }, hint) : null,
    h('p', { id: errorId, class: 'field-error', 'data-error-for': path, 'aria-live': 'polite' }),
  );
}

export function numberInput(value: number | string, attributes: Record<string, string | number> = {}): HTMLInputElement {
  return h('input', { type: 'number', value: String(value), inputmode: 'decimal', ...attributes });
}

export function textInput(value: string, attributes: Record<string, string> = {}): HTMLInputElement {
  return h('input', { type: 'text', value, ...attributes });
}

export function checkbox(checked: boolean): HTMLInputElement {
  const input = h('input', { type: 'checkbox' });
  input.checked = checked;
  return input;
}

export function select(options: { value: string; label: string }[], selected: string): HTMLSelectElement {
  const element = h('select', {}, options.map((option) => h('option', { value: option.value }, option.label)));
  element.value = selected;
  return element;
}

export function section(title: string, ...children: Child[]): HTMLFieldSetElement {
  return h('fieldset', { class: 'form-section' }, h('legend', {}, title), ...children);
}

/** Reads a number control; an empty or unparsable value is NaN so validation reports it as required. */
export function readNumber(form: HTMLFormElement, path: string): number {
  const control = form.elements.namedItem(path) as HTMLInputElement | HTMLSelectElement | null;
  const text = control?.value.trim() ?? '';
  return text === '' ? Number.NaN : Number(text);
}

export function readText(form: HTMLFormElement, path: string): string {
  const control = form.elements.namedItem(path) as HTMLInputElement | HTMLSelectElement | null;
  return control?.value ?? '';
}

export function readChecked(form: HTMLFormElement, path: string): boolean {
  const control = form.elements.namedItem(path) as HTMLInputElement | null;
  return control?.checked ?? false;
}

/**
 * Shows `errors` next to their fields and marks the controls invalid. Returns the errors that
 * name no field on the form, for the summary at the top.
 */
export function showFieldErrors(form: HTMLFormElement, errors: Map<string, string>): [string, string][] {
  const unplaced: [string, string][] = [];
  for (const slot of form.querySelectorAll<HTMLElement>('[data-error-for]')) {
    const path = slot.dataset.errorFor!;
    const message = errors.get(path) ?? '';
    slot.textContent = message;
    const control = form.elements.namedItem(path) as HTMLElement | null;
    if (control) {
      if (message) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    }
  }
  for (const [path, message] of errors) {
    if (!form.querySelector(`[data-error-for="${CSS.escape(path)}"]`)) unplaced.push([path, message]);
  }
  return unplaced;
}
