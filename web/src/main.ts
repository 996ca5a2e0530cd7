import './styles.css';
import { connectionState, onConnectionState, type ConnectionState } from './client.js';
import { h } from './dom.js';
import { route, startRouter } from './router.js';
import { jobView } from './views/job/view.js';
import { jobsView } from './views/jobs.js';
import { launchView } from './views/launch/view.js';
import { modelsView } from './views/models/view.js';

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting to the server…',
  connected: 'Connected',
  reconnecting: 'Connection lost. Reconnecting…',
  offline: 'Offline. Updates resume when the network returns.',
};

function renderBanner(banner: HTMLElement, state: ConnectionState): void {
  banner.dataset.state = state;
  banner.textContent = CONNECTION_TEXT[state];
}

const banner = h('div', { class: 'connection', role: 'status', 'aria-live': 'polite' });
const navLinks = {
  jobs: h('a', { href: '#/jobs' }, 'Jobs'),
  launch: h('a', { href: '#/launch' }, 'Launch'),
  models: h('a', { href: '#/models' }, 'Models'),
};
const main = h('main', { id: 'main', tabindex: '-1' });

document.body.append(
  h('a', { class: 'skip-link', href: '#main', onclick: (event: Event) => { event.preventDefault(); main.focus(); } }, 'Skip to content'),
  h('header', { class: 'top' }, h('span', { class: 'brand' }, 'Tunedeck'), h('nav', { 'aria-label': 'Main' }, Object.values(navLinks)), banner),
  main,
);

renderBanner(banner, connectionState());
onConnectionState((state) => renderBanner(banner, state));

route('/jobs', jobsView, 'jobs');
route('/jobs/:id', jobView, 'jobs');
route('/launch', launchView, 'launch');
route('/models', modelsView, 'models');
startRouter(main, '/jobs', (nav) => {
  for (const [name, link] of Object.entries(navLinks)) {
    if (name === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
});
