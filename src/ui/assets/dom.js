// Small DOM helpers: element building without innerHTML (no markup injection from API data).
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'style') Object.assign(el.style, v);  // CSSOM properties: the page's CSP allows no style attribute
    else el.setAttribute(k, v === true ? '' : v);
  }
  add(el, kids);
  return el;
}
function add(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) add(el, k);
    else el.append(k instanceof Node ? k : String(k));
  }
}

// A horizontal bar: parts [{cls, value, label}] out of total, with a text label.
export function bar(parts, total, label) {
  const b = h('div', { class: 'bar', role: 'img', 'aria-label': label });
  let left = 0;
  for (const p of parts) {
    const w = total > 0 ? Math.min(100 - left, (100 * p.value) / total) : 0;
    if (w <= 0) continue;
    b.append(h('span', { class: p.cls, style: { left: `${left}%`, width: `${w}%` }, title: p.label }));
    left += w;
  }
  return h('div', {}, b, h('div', { class: 'barlabel' }, label));
}

export function fmt(n, unit) {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  if (unit === 'MB') return n >= 1024 ? `${(n / 1024).toFixed(1)} GiB` : `${Math.round(n)} MiB`;
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

export function ago(ts) {
  if (!ts) return '–';
  const t = typeof ts === 'number' ? ts * (ts < 1e12 ? 1000 : 1) : Date.parse(ts);
  const s = Math.round((Date.now() - t) / 1000);
  if (Number.isNaN(s)) return String(ts);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function badge(text) { return h('span', { class: `badge ${text}` }, text); }

let toastTimer;
export function toast(msg, info) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = info ? 'toast info' : 'toast';
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, info ? 3000 : 8000);
}

// A modal dialog; resolves to the value of onOk or null when cancelled.
export function dialog(title, body, okText, danger, check) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'submit', class: danger ? 'danger' : '' }, okText);
    const d = h('dialog', { 'aria-label': title },
      h('form', { method: 'dialog' },
        h('h2', {}, title), body,
        h('div', { class: 'actions' }, ok,
          h('button', { type: 'button', class: 'secondary', onclick: () => d.close('cancel') }, 'Cancel'))));
    if (check) { ok.disabled = !check(); d.addEventListener('input', () => { ok.disabled = !check(); }); }
    d.addEventListener('close', () => { d.remove(); resolve(d.returnValue === 'cancel' || d.returnValue === '' ? null : true); });
    ok.addEventListener('click', () => { d.returnValue = 'ok'; });
    document.body.append(d);
    d.showModal();
  });
}

// Pages of a long list: renders only `size` rows at a time, so 10,000 rows stay cheap.
export function pager(total, page, size, go) {
  const pages = Math.max(1, Math.ceil(total / size));
  const p = Math.min(Math.max(page, 1), pages);
  return {
    page: p, start: (p - 1) * size, end: Math.min(total, p * size),
    el: h('div', { class: 'pager', role: 'navigation', 'aria-label': 'Pages' },
      h('button', { class: 'secondary', disabled: p <= 1, onclick: () => go(p - 1) }, '‹ Previous'),
      h('span', {}, `Page ${p} of ${pages} (${total})`),
      h('button', { class: 'secondary', disabled: p >= pages, onclick: () => go(p + 1) }, 'Next ›')),
  };
}
