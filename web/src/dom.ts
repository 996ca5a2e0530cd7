/** Attribute values for `h`: strings and numbers become attributes, functions on* become listeners, false/null/undefined are skipped. */
type AttributeValue = string | number | boolean | null | undefined | EventListener;
export type Child = Node | string | number | null | undefined | false;

/** Creates an element with attributes, listeners and children; text children are escaped by the DOM. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, AttributeValue> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends children, skipping empty ones and turning strings and numbers into text nodes. */
export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Standard loading, error and empty placeholders, so every view shows the same states. */
export const states = {
  loading: (what: string) => h('p', { class: 'state state-loading', role: 'status' }, `Loading ${what}…`),
  error: (what: string, message: string) => h('p', { class: 'state state-error', role: 'alert' }, `Could not load ${what}: ${message}`),
  empty: (message: string) => h('p', { class: 'state state-empty' }, message),
};
