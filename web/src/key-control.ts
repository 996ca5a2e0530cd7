import { apiKey, onApiKeyChange, onKeyRejected, setApiKey } from './api-key.js';
import { h } from './dom.js';

/**
 * Header control for the API key: shows whether a key is stored, and opens a small form to
 * enter or clear it. It opens by itself when the server rejects a request as unauthenticated.
 */
export function apiKeyControl(): HTMLElement {
  const status = h('span', { class: 'api-key-status' });
  const input = h('input', { id: 'api-key-input', name: 'apiKey', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'td_…', required: true });
  const message = h('p', { class: 'api-key-message', role: 'alert' });
  const clear = h('button', { type: 'button', class: 'api-key-clear' }, 'Clear key');
  const form = h(
    'form',
    { class: 'api-key-form' },
    h('label', { for: 'api-key-input' }, 'API key'),
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Save'),
    clear,
    message,
    h('small', { class: 'hint block' }, 'Stored in this browser only (localStorage). Create one with npm run keys -- create --name NAME --scopes read,write.'),
  );
  const details = h('details', { class: 'api-key' }, h('summary', {}, 'API key: ', status), form);

  const renderStatus = () => {
    const key = apiKey();
    status.textContent = key ? 'set' : 'none';
    details.dataset.keySet = key ? 'true' : 'false';
    clear.disabled = !key;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) {
      message.textContent = 'Enter a key, or use Clear key to remove the stored one.';
      return;
    }
    input.value = '';
    message.textContent = '';
    setApiKey(value);
    details.open = false;
  });
  clear.addEventListener('click', () => {
    setApiKey(null);
    message.textContent = 'Key removed from this browser.';
  });

  onApiKeyChange(renderStatus);
  onKeyRejected(() => {
    message.textContent = apiKey()
      ? 'The server rejected this API key: it is invalid or revoked. Enter another key.'
      : 'This server requires an API key. Enter a key with the read scope (read,write to launch and cancel jobs).';
    details.dataset.rejected = 'true';
    details.open = true;
  });
  onApiKeyChange(() => delete details.dataset.rejected);
  renderStatus();
  return details;
}
