// The home page: instant search with facets, sort and paging, or browse rows when empty.
import { ApiError, api, query } from './api.js';
import { h, mount, movieCard, errorBox } from './dom.js';

const SORTS = [
  ['', 'Relevance'], ['popularity.desc', 'Most popular'], ['vote_average.desc', 'Top rated'],
  ['release_date.desc', 'Newest'], ['release_date.asc', 'Oldest'], ['title.asc', 'Title A–Z'],
  ['vote_count.desc', 'Most voted'], ['revenue.desc', 'Highest revenue'], ['runtime.desc', 'Longest'],
];
const ROWS = [
  ['Popular', '/movies/popular/'], ['Trending today', '/movies/trending/?window=day'],
  ['Trending this week', '/movies/trending/?window=week'], ['Top rated', '/movies/top-rated/'],
  ['Upcoming', '/movies/upcoming/'], ['Now playing', '/movies/now-playing/'],
];
const FACETS = [['genres', 'genre', 'Genre'], ['language', 'language', 'Language'], ['decade', 'decade', 'Decade']];
const PER_PAGE = 20;
const DEBOUNCE_MS = 150;

function readState() {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get('q') || '', genre: p.get('genre') || '', language: p.get('language') || '',
    decade: p.get('decade') || '', sort: p.get('sort') || '', page: Number(p.get('page')) || 1,
  };
}

function urlOf(state) {
  return '/' + query({
    q: state.q, genre: state.genre, language: state.language, decade: state.decade,
    sort: state.sort, page: state.page > 1 ? state.page : '',
  });
}

function apiUrl(state) {
  const params = { page: state.page, per_page: PER_PAGE, genre: state.genre, language: state.language, sort_by: state.sort };
  const decade = state.decade.match(/^(\d{4})s$/);
  if (decade) {
    params['release_date.gte'] = `${decade[1]}-01-01`;
    params['release_date.lte'] = `${Number(decade[1]) + 9}-12-31`;
  }
  if (state.q) return '/movies/search/' + query({ q: state.q, ...params });
  return '/movies/filter/' + query(params);
}

const filtered = (s) => s.q || s.genre || s.language || s.decade;

export function renderHome(navigate) {
  let state = readState();
  let seq = 0;
  let controller = null;
  let timer = null;
  let typedAt = null;
  const input = h('input', {
    type: 'search', id: 'q', name: 'q', value: state.q, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Search titles, cast, directors, genres…', 'aria-label': 'Search movies',
  });
  const sort = h('select', { id: 'sort', 'aria-label': 'Sort by' },
    SORTS.map(([v, label]) => h('option', { value: v, selected: v === state.sort }, label)));
  const status = h('p', { id: 'status', class: 'muted', 'aria-live': 'polite' });
  const results = h('section', { id: 'results', 'aria-label': 'Results' });
  mount(h('form', { class: 'searchbar', role: 'search', onsubmit: (e) => e.preventDefault() }, input, sort), status, results);
  input.focus();

  const go = (change, push = true) => {
    state = { ...state, ...change };
    const url = urlOf(state);
    if (push) history.pushState(null, '', url); else history.replaceState(null, '', url);
    run();
  };
  input.addEventListener('input', () => {
    typedAt = performance.now();
    clearTimeout(timer);
    timer = setTimeout(() => go({ q: input.value.trim(), page: 1 }, false), DEBOUNCE_MS);
  });
  sort.addEventListener('change', () => go({ sort: sort.value, page: 1 }));

  async function run() {
    const mine = ++seq;
    if (controller) controller.abort();
    controller = new AbortController();
    results.dataset.state = 'loading';
    try {
      if (!filtered(state)) {
        status.textContent = '';
        await browse(results, controller.signal);
        if (mine !== seq) return;
        results.dataset.query = '';
      } else {
        const body = await api(apiUrl(state), { signal: controller.signal });
        if (mine !== seq) return; // a newer request owns the page
        showResults(body);
      }
      results.dataset.state = 'ready';
      if (typedAt !== null) {
        document.body.dataset.latency = String(performance.now() - typedAt);
        typedAt = null;
      }
    } catch (err) {
      if (err.name === 'AbortError' || mine !== seq) return;
      results.dataset.state = 'error';
      results.replaceChildren(errorBox(err));
    }
  }

  function showResults(body) {
    const n = body.total_results;
    status.textContent = `${n} movie${n === 1 ? '' : 's'}`;
    status.dataset.total = String(n);
    const list = h('ul', { class: 'grid', id: 'result-list' }, body.results.map((m) => {
      const card = movieCard(m, m.highlights ? m.highlights.title : null);
      const cast = m.highlights && m.highlights.cast && m.highlights.cast.length
        ? h('span', { class: 'cast', html: 'with ' + m.highlights.cast.join(', ') }) : null;
      if (cast) card.firstChild.append(cast);
      return card;
    }));
    const empty = body.results.length ? null : h('p', { class: 'muted' }, 'No movie matches: try another spelling or fewer filters.');
    results.replaceChildren(h('div', { class: 'layout' }, h('div', { class: 'found' }, chips(), list, empty, pager(body)), facets(body.facets || {})));
    results.dataset.query = state.q;
  }

  function facets(f) {
    return h('aside', { class: 'facets', 'aria-label': 'Filters' }, FACETS.map(([key, param, label]) => {
      const counts = Object.entries(f[key] || {}).sort((a, b) => b[1] - a[1]).slice(0, 12);
      if (!counts.length) return null;
      return h('fieldset', {}, h('legend', {}, label), counts.map(([value, count]) => h('button', {
        type: 'button', class: 'facet', 'data-facet': param, 'data-value': value, 'data-count': count,
        'aria-pressed': String(state[param] === value),
        onclick: () => go({ [param]: state[param] === value ? '' : value, page: 1 }),
      }, value, ' ', h('span', { class: 'count' }, String(count)))));
    }));
  }

  function chips() {
    const active = FACETS.map(([, p]) => p).filter((p) => state[p]);
    if (!active.length) return null;
    return h('div', { class: 'chips' }, active.map((p) => h('button', {
      type: 'button', class: 'chip', 'aria-label': `Remove filter ${state[p]}`, onclick: () => go({ [p]: '', page: 1 }),
    }, `${state[p]} ✕`)));
  }

  function pager(body) {
    if (body.total_pages <= 1) return null;
    return h('nav', { class: 'pager', 'aria-label': 'Pages' },
      h('button', { type: 'button', disabled: state.page <= 1, onclick: () => go({ page: state.page - 1 }) }, '← Previous'),
      h('span', {}, `Page ${state.page} of ${body.total_pages}`),
      h('button', { type: 'button', disabled: state.page >= body.total_pages, onclick: () => go({ page: state.page + 1 }) }, 'Next →'));
  }

  run();
}

async function browse(results, signal) {
  const genres = api('/genres/', { signal }).catch(() => []);
  const rows = await Promise.all(ROWS.map(([title, path]) =>
    api(path + (path.includes('?') ? '&' : '?') + 'per_page=12', { signal })
      .then((body) => [title, body.results, null]).catch((err) => {
        if (err.name === 'AbortError') throw err;
        return [title, [], err];
      })));
  const genreList = (await genres).filter((g) => g.movie_count > 0);
  results.replaceChildren(
    genreList.length ? h('nav', { class: 'chips', 'aria-label': 'Genres' }, genreList.map((g) =>
      h('a', { href: `/genre/${g.id}`, 'data-link': true, class: 'chip', 'data-genre-id': g.id }, g.name))) : null,
    ...rows.map(([title, movies, err]) => h('section', { class: 'row', 'aria-label': title },
      h('h2', {}, title),
      err ? errorBox(err) : movies.length ? h('ul', { class: 'strip' }, movies.map((m) => movieCard(m)))
        : h('p', { class: 'muted' }, 'Nothing here yet.'))));
}

// A genre's page: its movies (most popular first by default), sortable and paged; the URL holds both.
export async function renderGenre(genreId, navigate) {
  const p = new URLSearchParams(location.search);
  const state = { sort: p.get('sort') || 'popularity.desc', page: Number(p.get('page')) || 1 };
  const genre = (await api('/genres/')).find((g) => g.id === genreId);
  if (!genre) throw new ApiError(404, 'genre_not_found', 'No such genre.');
  document.title = `Genre: ${genre.name} — Marquee`;
  const go = (change) => {
    const next = { ...state, ...change };
    navigate(`/genre/${genreId}` + query({ sort: next.sort === 'popularity.desc' ? '' : next.sort, page: next.page > 1 ? next.page : '' }));
  };
  const sort = h('select', { id: 'genre-sort', 'aria-label': 'Sort by', onchange: (e) => go({ sort: e.target.value, page: 1 }) },
    SORTS.filter(([v]) => v).map(([v, label]) => h('option', { value: v, selected: v === state.sort }, label)));
  const results = h('section', { id: 'genre-results', 'aria-label': `${genre.name} movies`, 'data-state': 'loading' });
  mount(h('div', { class: 'page-head' }, h('h1', { id: 'genre-name' }, `Genre: ${genre.name}`), sort), results);
  try {
    const body = await api('/movies/filter/' + query({ genre: genreId, sort_by: state.sort, page: state.page, per_page: PER_PAGE }));
    const n = body.total_results;
    results.replaceChildren(
      h('p', { class: 'muted', id: 'genre-total', 'data-total': n }, `${n} movie${n === 1 ? '' : 's'}`),
      body.results.length ? h('ul', { class: 'grid', id: 'genre-list' }, body.results.map((m) => movieCard(m)))
        : h('p', { class: 'muted' }, 'No movie in this genre yet.'),
      body.total_pages > 1 ? h('nav', { class: 'pager', 'aria-label': 'Pages' },
        h('button', { type: 'button', disabled: state.page <= 1, onclick: () => go({ page: state.page - 1 }) }, '← Previous'),
        h('span', {}, `Page ${state.page} of ${body.total_pages}`),
        h('button', { type: 'button', disabled: state.page >= body.total_pages, onclick: () => go({ page: state.page + 1 }) }, 'Next →')) : null);
    results.dataset.state = 'ready';
  } catch (err) {
    results.replaceChildren(errorBox(err));
    results.dataset.state = 'error';
  }
}
