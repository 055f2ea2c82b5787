// The router: the URL names the page; links and the back button stay inside the app.
import { api, session } from './api.js';
import { h, link, notice, mount, errorBox } from './dom.js';
import { renderHome, renderGenre } from './search.js';
import { renderMovie, renderPerson } from './pages.js';
import { renderSignIn, renderRegister, renderAccount } from './account.js';

const routes = [
  [/^\/$/, () => renderHome(navigate)],
  [/^\/movie\/(\d+)$/, (m) => renderMovie(Number(m[1]))],
  [/^\/genre\/(\d+)$/, (m) => renderGenre(Number(m[1]), navigate)],
  [/^\/person\/(\d+)$/, (m) => renderPerson(Number(m[1]))],
  [/^\/signin$/, () => renderSignIn(navigate, refreshNav)],
  [/^\/register$/, () => renderRegister(navigate, refreshNav)],
  [/^\/account$/, () => renderAccount(navigate)],
];

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

async function render() {
  notice('');
  document.title = 'Marquee';
  const path = location.pathname.replace(/\/+$/, '') || '/';
  for (const [pattern, page] of routes) {
    const match = path.match(pattern);
    if (match) {
      try { await page(match); } catch (err) { mount(errorBox(err)); }
      return;
    }
  }
  mount(h('h1', {}, 'Page not found'), link('/', 'Back to search'));
}

export async function refreshNav() {
  const nav = document.getElementById('nav');
  if (session.token && !session.user) {
    try { session.user = await api('/users/me/'); } catch { session.user = null; }
  }
  if (session.user) {
    nav.replaceChildren(
      link('/account', session.user.display_name || session.user.email),
      h('button', { type: 'button', class: 'linkish', onclick: signOut }, 'Sign out'));
  } else {
    nav.replaceChildren(link('/signin', 'Sign in'), link('/register', 'Register'));
  }
  document.body.dataset.signedIn = session.user ? 'yes' : 'no';
}

async function signOut() {
  try { await api('/auth/logout/', { method: 'POST' }); } catch { /* already gone */ }
  session.clear();
  await refreshNav();
  navigate('/');
}

document.addEventListener('click', (event) => {
  const a = event.target.closest('a[data-link]');
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', render);
window.addEventListener('marquee:signedout', () => {
  refreshNav();
  notice('Your session has ended: sign in again.');
});

refreshNav().then(render);
