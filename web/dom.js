// Building DOM: text goes in as text; only the API's escaped highlights go in as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'html') el.innerHTML = value; // only ever API highlights (escaped, <mark>)
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const imageBase = document.querySelector('meta[name="image-base"]').content.replace(/\/$/, '');

export function imageUrl(path) {
  return path ? imageBase + (path.startsWith('/') ? path : '/' + path) : null;
}

export function poster(url, alt, cls = 'poster') {
  return url
    ? h('img', { src: url, alt, class: cls, loading: 'lazy', width: 92, height: 138 })
    : h('div', { class: cls + ' placeholder', role: 'img', 'aria-label': alt || 'No poster' }, '🎬');
}

export function year(date) { return date ? date.slice(0, 4) : '—'; }
export function rating(movie) {
  return movie.vote_count ? `★ ${Number(movie.vote_average).toFixed(1)}` : 'not rated';
}

export function link(href, ...children) { return h('a', { href, 'data-link': true }, ...children); }

export function movieCard(movie, titleHtml = null) {
  const title = titleHtml !== null
    ? h('span', { class: 'title', html: titleHtml })
    : h('span', { class: 'title' }, movie.title);
  return h('li', { class: 'card', 'data-movie-id': movie.id },
    h('a', { href: `/movie/${movie.id}`, 'data-link': true },
      poster(movie.poster_url, ''), title,
      h('span', { class: 'meta' }, `${year(movie.release_date)} · ${rating(movie)}`)));
}

export function mount(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
  return main;
}

export function notice(message) {
  const el = document.getElementById('notice');
  el.textContent = message || '';
  el.hidden = !message;
}

export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err && err.message ? err.message : String(err));
}
