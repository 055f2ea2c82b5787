// Signing in and up, and the account page: watchlist, favorites, reviews, API keys.
import { api, session, ApiError } from './api.js';
import { h, mount, link, movieCard, errorBox } from './dom.js';

function authForm(title, fields, submit, footer) {
  const status = h('p', { class: 'error', role: 'alert', id: 'form-error' });
  const inputs = Object.fromEntries(fields.map(([name, type, label, auto]) =>
    [name, h('input', { id: name, name, type, required: name !== 'display_name', autocomplete: auto })]));
  const form = h('form', { class: 'auth', onsubmit: async (e) => {
    e.preventDefault();
    status.textContent = '';
    const values = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value]));
    try { await submit(values); } catch (err) { status.textContent = err.message; }
  } }, h('h1', {}, title),
  fields.map(([name, , label]) => h('label', { for: name }, label, inputs[name])),
  h('button', { type: 'submit' }, title), status, footer);
  mount(form);
  inputs[fields[0][0]].focus();
}

async function signIn(email, password, navigate, refreshNav) {
  const body = await api('/auth/token', { method: 'POST', form: { username: email, password } })
    .catch((err) => { throw err.status === 401 ? new ApiError(401, err.code, 'Wrong email or password.') : err; });
  session.clear();
  session.set(body.access_token);
  await refreshNav();
  navigate('/account');
}

export function renderSignIn(navigate, refreshNav) {
  authForm('Sign in', [['email', 'email', 'Email', 'username'], ['password', 'password', 'Password', 'current-password']],
    (v) => signIn(v.email, v.password, navigate, refreshNav),
    h('p', {}, 'New here? ', link('/register', 'Register')));
}

export function renderRegister(navigate, refreshNav) {
  authForm('Register', [['email', 'email', 'Email', 'username'], ['password', 'password', 'Password', 'new-password'],
    ['display_name', 'text', 'Display name (optional)', 'nickname']],
  async (v) => {
    await api('/auth/register', { method: 'POST', json: { email: v.email, password: v.password, display_name: v.display_name || undefined } });
    await signIn(v.email, v.password, navigate, refreshNav);
  }, h('p', {}, 'Already registered? ', link('/signin', 'Sign in')));
}

export async function renderAccount(navigate) {
  if (!session.token) { navigate('/signin', { replace: true }); return; }
  const section = (id, title) => h('section', { id, 'aria-label': title }, h('h2', {}, title), h('p', { class: 'muted' }, 'Loading…'));
  const watch = section('my-watchlist', 'My watchlist');
  const favs = section('my-favorites', 'My favorites');
  const revs = section('my-reviews', 'My reviews');
  const keys = section('my-keys', 'My API keys');
  mount(h('h1', {}, 'My account'), watch, favs, revs, keys);
  const list = async (box, path) => {
    try {
      const body = await api(path);
      box.lastChild.replaceWith(body.results.length ? h('ul', { class: 'grid' }, body.results.map((m) => movieCard(m)))
        : h('p', { class: 'muted' }, 'Nothing yet.'));
    } catch (err) { box.lastChild.replaceWith(errorBox(err)); }
  };
  list(watch, '/watchlist/?per_page=100');
  list(favs, '/favorites/?per_page=100');
  api('/users/me/reviews/?per_page=100').then((body) => revs.lastChild.replaceWith(body.results.length
    ? h('ul', { class: 'reviews' }, body.results.map((r) => h('li', {}, link(`/movie/${r.movie_id}`, r.movie_title || `Movie ${r.movie_id}`), ` ★ ${r.rating}`, r.content ? h('p', {}, r.content) : null)))
    : h('p', { class: 'muted' }, 'No reviews yet.'))).catch((err) => revs.lastChild.replaceWith(errorBox(err)));
  showKeys(keys);
}

async function showKeys(box) {
  const body = h('div', {});
  box.lastChild.replaceWith(body);
  const name = h('input', { id: 'key-name', required: true, 'aria-label': 'New key name', placeholder: 'App name' });
  const fresh = h('div', { 'aria-live': 'polite' });
  const table = h('ul', { class: 'keys' });
  const refresh = async () => {
    try {
      const items = await api('/users/me/api-keys/');
      table.replaceChildren(...(items.length ? items : []).map((k) => h('li', {},
        `${k.name} `, h('span', { class: 'muted' }, `${k.key_prefix ? k.key_prefix + '… ' : ''}created ${k.created_at.slice(0, 10)}${k.last_used_at ? ', last used ' + k.last_used_at.slice(0, 10) : ''} `),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke key ${k.name}`, onclick: async () => {
          if (!window.confirm(`Revoke “${k.name}”? Apps using it stop working.`)) return;
          try { await api(`/users/me/api-keys/${k.id}/`, { method: 'DELETE' }); refresh(); } catch (err) { fresh.replaceChildren(errorBox(err)); }
        } }, 'Revoke'))));
      if (!items.length) table.replaceChildren(h('li', { class: 'muted' }, 'No keys yet.'));
    } catch (err) { table.replaceChildren(errorBox(err)); }
  };
  const form = h('form', { class: 'actions', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const key = await api('/users/me/api-keys/', { method: 'POST', json: { name: name.value.trim() } });
      const value = h('code', { id: 'new-key' }, key.api_key);
      fresh.replaceChildren(h('p', {}, 'Your new key (shown this once): ', value, ' ',
        h('button', { type: 'button', onclick: () => navigator.clipboard && navigator.clipboard.writeText(key.api_key) }, 'Copy')));
      name.value = '';
      refresh();
    } catch (err) { fresh.replaceChildren(errorBox(err)); }
  } }, name, h('button', { type: 'submit' }, 'Create key'));
  body.append(form, fresh, table);
  refresh();
}
