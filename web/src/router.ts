/** A view renders into `container` and returns the function that stops its subscriptions and timers. */
export type View = (container: HTMLElement, params: Record<string, string>) => () => void;

interface Route {
  pattern: RegExp;
  keys: string[];
  view: View;
  /** Navigation link that is marked current while this route shows. */
  nav: string;
}

const routes: Route[] = [];
let renderCurrent: (() => void) | undefined;

/** Registers a hash route such as `#/jobs/:id`. */
export function route(path: string, view: View, nav: string): void {
  const keys: string[] = [];
  const source = path.replace(/:(\w+)/g, (_match, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  routes.push({ pattern: new RegExp(`^${source}$`), keys, view, nav });
}

export function navigate(hash: string): void {
  window.location.hash = hash;
}

/** Renders the route for the current hash and re-renders on every hash change. */
export function startRouter(container: HTMLElement, fallback: string, onRoute: (nav: string) => void): void {
  let dispose: (() => void) | undefined;
  const render = () => {
    const hash = window.location.hash.replace(/^#/, '') || fallback;
    const match = routes.map((candidate) => ({ candidate, result: candidate.pattern.exec(hash) })).find(({ result }) => result);
    if (!match) {
      navigate(`#${fallback}`);
      return;
    }
    dispose?.();
    const params = Object.fromEntries(match.candidate.keys.map((key, index) => [key, decodeURIComponent(match.result![index + 1])]));
    container.replaceChildren();
    dispose = match.candidate.view(container, params);
    onRoute(match.candidate.nav);
    container.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  };
  renderCurrent = render;
  window.addEventListener('hashchange', render);
  render();
}

/** Renders the current route again from scratch, stopping the old view first. */
export function refreshRoute(): void {
  renderCurrent?.();
}
