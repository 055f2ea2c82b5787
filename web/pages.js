// The movie page (facts, cast and crew, similar, reviews, your state, admin edit) and the person page.
import { api, request, session, query } from './api.js';
import { h, mount, link, poster, imageUrl, year, rating, movieCard, errorBox, notice } from './dom.js';

const money = (n) => (n ? `$${Number(n).toLocaleString('en-US')}` : null);
const names = (list) => (list || []).map((x) => x.name).join(', ');

function fact(label, value) {
  return value && (!Array.isArray(value) || value.length) ? [h('dt', {}, label), h('dd', {}, value)] : [];
}

function genreLinks(genres) {
  return (genres || []).flatMap((g, i) => [i ? ', ' : null, link(`/genre/${g.id}`, g.name)]);
}

const CAST_SHOWN = 30;

// The cast in billing order: the first CAST_SHOWN, and a button for the rest.
function showCast(box, cast, all = false) {
  const shown = all ? cast : cast.slice(0, CAST_SHOWN);
  box.replaceChildren(
    h('ul', { class: 'people', id: 'cast' }, shown.map((c) =>
      h('li', {}, link(`/person/${c.id}`, c.name), c.character ? h('span', { class: 'muted' }, ` as ${c.character}`) : null))),
    cast.length > shown.length ? h('button', { type: 'button', id: 'cast-more', onclick: () => showCast(box, cast, true) },
      `Show all ${cast.length}`) : null);
  if (!cast.length) box.firstChild.replaceWith(h('p', { class: 'muted', id: 'cast' }, 'No cast yet.'));
}

export async function renderMovie(movieId) {
  const { data: movie, etag } = await request(`/movies/${movieId}/`);
  document.title = `${movie.title} — Marquee`;
  const facts = h('dl', { class: 'facts' },
    fact('Released', movie.release_date), fact('Runtime', movie.runtime ? `${movie.runtime} min` : null),
    fact('Status', movie.status), fact('Rating', `${rating(movie)} (${movie.vote_count} votes)`),
    fact('Genres', genreLinks(movie.genres)), fact('Budget', money(movie.budget)), fact('Revenue', money(movie.revenue)),
    fact('Languages', (movie.spoken_languages || []).map((l) => l.name || l.iso_639_1).join(', ')),
    fact('Companies', names(movie.production_companies)), fact('Keywords', names(movie.keywords)));
  const cast = h('div', {});
  showCast(cast, movie.cast || []);
  const crew = h('ul', { class: 'people', id: 'crew' }, (movie.crew || []).slice(0, 30).map((c) =>
    h('li', {}, link(`/person/${c.id}`, c.name), h('span', { class: 'muted' }, ` ${c.job}`))));
  const mine = h('div', { id: 'mine' });
  const similar = h('ul', { class: 'strip', id: 'similar' });
  const reviews = h('div', { id: 'reviews' });
  const admin = h('div', { id: 'admin' });
  mount(
    h('article', { class: 'movie' },
      poster(movie.poster_url, `Poster of ${movie.title}`, 'poster big'),
      h('div', {},
        h('h1', { id: 'movie-title' }, movie.title, ' ', h('span', { class: 'muted' }, `(${year(movie.release_date)})`)),
        movie.tagline ? h('p', { class: 'tagline' }, movie.tagline) : null,
        h('p', {}, movie.overview), facts, mine)),
    h('section', { 'aria-label': 'Cast' }, h('h2', {}, 'Cast'), cast),
    h('section', { 'aria-label': 'Crew' }, h('h2', {}, 'Crew'), crew),
    h('section', { 'aria-label': 'Similar movies' }, h('h2', {}, 'Similar movies'), similar),
    h('section', { 'aria-label': 'Reviews' }, h('h2', {}, 'Reviews'), reviews),
    admin);
  api(`/movies/${movieId}/similar/?per_page=12`).then((b) => similar.replaceChildren(...b.results.map((m) => movieCard(m))))
    .catch((err) => similar.replaceChildren(errorBox(err)));
  showReviews(reviews, movieId, 1);
  if (session.user) showMine(mine, movieId);
  else mine.replaceChildren(h('p', { class: 'muted' }, link('/signin', 'Sign in'), ' to rate, review and keep lists.'));
  if (session.user && session.user.is_admin) showAdmin(admin, movie, etag, (list) => showCast(cast, list, true));
}

async function showReviews(box, movieId, page) {
  try {
    const body = await api(`/movies/${movieId}/reviews/${query({ page, per_page: 5 })}`);
    box.replaceChildren(
      body.results.length ? h('ul', { class: 'reviews' }, body.results.map((r) => h('li', {},
        h('strong', {}, `★ ${r.rating}`), ' ', h('span', { class: 'muted' }, r.display_name || r.user_name || ''),
        r.content ? h('p', {}, r.content) : null))) : h('p', { class: 'muted' }, 'No reviews yet.'),
      body.total_pages > 1 ? h('nav', { class: 'pager', 'aria-label': 'Review pages' },
        h('button', { type: 'button', disabled: page <= 1, onclick: () => showReviews(box, movieId, page - 1) }, '← Newer'),
        h('span', {}, `Page ${page} of ${body.total_pages}`),
        h('button', { type: 'button', disabled: page >= body.total_pages, onclick: () => showReviews(box, movieId, page + 1) }, 'Older →')) : null);
  } catch (err) { box.replaceChildren(errorBox(err)); }
}

async function showMine(box, movieId) {
  let state;
  try { state = await api(`/movies/${movieId}/account-state/`); } catch (err) { box.replaceChildren(errorBox(err)); return; }
  const toggle = (list, label) => h('button', {
    type: 'button', class: 'toggle', id: `toggle-${list}`, 'aria-pressed': String(state[list]),
    onclick: async (e) => {
      const btn = e.currentTarget;
      btn.disabled = true;
      try {
        await api(`/${list === 'watchlist' ? 'watchlist' : 'favorites'}/${movieId}/`, { method: state[list] ? 'DELETE' : 'POST' });
        state[list] = !state[list];
        btn.setAttribute('aria-pressed', String(state[list]));
        btn.textContent = (state[list] ? '✓ ' : '+ ') + label;
      } catch (err) { notice(err.message); } finally { btn.disabled = false; }
    },
  }, (state[list] ? '✓ ' : '+ ') + label);
  const stars = h('select', { id: 'my-rating', 'aria-label': 'Your rating' },
    h('option', { value: '' }, 'Rate…'),
    Array.from({ length: 20 }, (_, i) => (i + 1) / 2).map((v) => h('option', { value: v, selected: state.rating === v }, `★ ${v}`)));
  const text = h('textarea', { id: 'my-review', rows: 3, 'aria-label': 'Your review', placeholder: 'Your review (optional)' });
  const saved = h('span', { class: 'muted', 'aria-live': 'polite' });
  const form = h('form', { class: 'review-form', onsubmit: async (e) => {
    e.preventDefault();
    if (!stars.value) { saved.textContent = 'Pick a rating first.'; return; }
    const json = { rating: Number(stars.value), content: text.value.trim() || null };
    try {
      try { await api(`/reviews/${movieId}/`, { method: 'POST', json }); }
      catch (err) { if (err.status !== 409) throw err; await api(`/reviews/${movieId}/`, { method: 'PUT', json }); }
      saved.textContent = 'Saved.';
    } catch (err) { saved.textContent = err.message; }
  } }, stars, text, h('button', { type: 'submit' }, 'Save review'), saved);
  box.replaceChildren(h('div', { class: 'actions' }, toggle('watchlist', 'Watchlist'), toggle('favorite', 'Favorite')), form);
}

// The cast being edited: existing people by id, new ones by name; sent whole, in this order.
function castEditor(initial) {
  let members = [];
  let dirty = false;
  const list = h('ol', { id: 'edit-cast', class: 'cast-edit', 'aria-label': 'Cast being edited' });
  const name = h('input', { id: 'cast-name', autocomplete: 'off', 'aria-label': 'New cast member name', placeholder: 'Name' });
  const character = h('input', { id: 'cast-character', autocomplete: 'off', 'aria-label': 'New cast member character', placeholder: 'Character (optional)' });
  const hint = h('small', { class: 'muted', id: 'cast-hint', 'aria-live': 'polite' });
  const change = () => { dirty = true; draw(); };
  const move = (i, by) => { const [m] = members.splice(i, 1); members.splice(i + by, 0, m); change(); };
  function draw() {
    list.replaceChildren(...members.map((m, i) => {
      const role = h('input', { value: m.character || '', 'aria-label': `Character of ${m.name}`, placeholder: 'Character', oninput: (e) => { m.character = e.target.value; dirty = true; } });
      return h('li', { 'data-name': m.name },
        h('span', { class: 'who' }, m.name), role,
        h('button', { type: 'button', class: 'small', 'aria-label': `Move ${m.name} up`, disabled: i === 0, onclick: () => move(i, -1) }, '↑'),
        h('button', { type: 'button', class: 'small', 'aria-label': `Move ${m.name} down`, disabled: i === members.length - 1, onclick: () => move(i, 1) }, '↓'),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove ${m.name} from the cast`, onclick: () => { members.splice(i, 1); change(); } }, '✕'));
    }));
  }
  function add() {
    const who = name.value.trim();
    if (!who) { hint.textContent = 'Type a name to add.'; name.focus(); return; }
    members.push({ person_id: null, name: who, character: character.value.trim() });
    name.value = ''; character.value = '';
    hint.textContent = `${who} added: save changes to keep it.`;
    change();
    name.focus();
  }
  const enterAdds = (e) => { if (e.key === 'Enter') { e.preventDefault(); add(); } };
  name.addEventListener('keydown', enterAdds);
  character.addEventListener('keydown', enterAdds);
  const reset = (cast) => {
    members = [...cast].sort((a, b) => a.order - b.order)
      .map((c) => ({ person_id: c.id, name: c.name, character: c.character || '' }));
    dirty = false;
    draw();
  };
  reset(initial);
  const el = h('fieldset', { class: 'cast-box' }, h('legend', {}, 'Cast'), list,
    h('div', { class: 'actions' }, name, character, h('button', { type: 'button', id: 'cast-add', onclick: add }, 'Add to cast')), hint);
  return {
    el, reset,
    value: () => (dirty ? members.map((m, order) => ({
      ...(m.person_id ? { person_id: m.person_id } : { name: m.name }), character: m.character.trim() || null, order,
    })) : undefined),
  };
}

function showAdmin(box, movie, etag, onCast) {
  let tag = etag;
  const field = (label, el) => h('label', {}, label, el);
  const title = h('input', { id: 'edit-title', value: movie.title, required: true });
  const overview = h('textarea', { id: 'edit-overview', rows: 4 });
  overview.value = movie.overview || '';
  const date = h('input', { id: 'edit-date', type: 'date', value: movie.release_date || '' });
  const genres = h('input', { id: 'edit-genres', value: names(movie.genres), 'aria-describedby': 'genres-hint' });
  const cast = castEditor(movie.cast || []);
  const status = h('p', { id: 'edit-status', 'aria-live': 'polite' });
  const form = h('form', { class: 'admin-form', onsubmit: async (e) => {
    e.preventDefault();
    delete status.dataset.saved;
    const json = {
      title: title.value.trim(), overview: overview.value.trim(), release_date: date.value || null,
      genres: genres.value.split(',').map((g) => g.trim()).filter(Boolean), cast: cast.value(),
    };
    try {
      const answer = await request(`/movies/${movie.id}/`, { method: 'PATCH', json, ifMatch: tag });
      tag = answer.etag || tag;
      status.textContent = 'Saved: search shows the change within seconds.';
      status.dataset.saved = 'yes';
      document.getElementById('movie-title').firstChild.textContent = answer.data.title;
      if (json.cast) { cast.reset(answer.data.cast || []); onCast(answer.data.cast || []); }
    } catch (err) { status.textContent = err.message; }
  } },
  h('h2', {}, 'Edit (admin)'), field('Title', title), field('Overview', overview), field('Release date', date),
  field('Genres', genres), h('small', { id: 'genres-hint', class: 'muted' }, 'Comma-separated names'), cast.el,
  h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'edit-save' }, 'Save changes'),
    h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!window.confirm(`Delete “${movie.title}” for good?`)) return;
      try {
        await request(`/movies/${movie.id}/`, { method: 'DELETE', ifMatch: tag });
        history.pushState(null, '', '/'); window.dispatchEvent(new PopStateEvent('popstate'));
        notice(`Deleted “${movie.title}”.`);
      } catch (err) { status.textContent = err.message; }
    } }, 'Delete movie')), status);
  box.replaceChildren(form);
}

export async function renderPerson(personId) {
  const p = await api(`/people/${personId}/`);
  document.title = `${p.name} — Marquee`;
  const credits = (list, extra) => h('ul', { class: 'grid' }, list.map((m) => {
    const card = movieCard(m);
    card.firstChild.append(h('span', { class: 'muted' }, extra(m)));
    return card;
  }));
  const cast = p.movie_credits.cast || [];
  const crew = p.movie_credits.crew || [];
  mount(
    h('article', { class: 'movie' },
      poster(imageUrl(p.profile_path), `Photo of ${p.name}`, 'poster big'),
      h('div', {}, h('h1', { id: 'person-name' }, p.name),
        h('p', { class: 'muted' }, p.known_for_department || ''))),
    cast.length ? h('section', { 'aria-label': 'As cast' }, h('h2', {}, `As cast (${cast.length})`), credits(cast, (m) => m.character || '')) : null,
    crew.length ? h('section', { 'aria-label': 'As crew' }, h('h2', {}, `As crew (${crew.length})`), credits(crew, (m) => m.job || '')) : null);
}
