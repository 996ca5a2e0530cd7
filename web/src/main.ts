import './styles.css';
import { connectionState, onClientReset, onConnectionState, type ConnectionState } from './client.js';
import { h } from './dom.js';
import { apiKeyControl } from './key-control.js';
import { refreshRoute, route, startRouter } from './router.js';
import { jobView } from './views/job/view.js';
import { jobsView } from './views/jobs.js';
import { launchView } from './views/launch/view.js';
import { modelsView } from './views/models/view.js';

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting to the server…',
  connected: 'Connected',
  reconnecting: 'Connection lost. Reconnecting…',
  offline: 'Offline. Updates resume when the network returns.',
  unauthorized: 'API key missing, invalid or revoked. Enter a key under API key.',
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
  h('header', { class: 'top' }, h('span', { class: 'brand' }, 'Tunedeck'), h('nav', { 'aria-label': 'Main' }, Object.values(navLinks)), banner, apiKeyControl()),
  main,
);

renderBanner(banner, connectionState());
onConnectionState((state) => renderBanner(banner, state));
// A new key replaced the socket and ended every subscription, so the view starts over.
onClientReset(refreshRoute);

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
