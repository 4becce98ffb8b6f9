// Sandbox: browse a task's sandbox, open a file, follow it live (as `berth logs -f`),
// download it. Only the files API (docs/api.md "Task sandboxes").
import { h, toast } from './dom.js';
import { get } from './api.js';

const TAIL = 64 * 1024;      // what opening a file shows first
const CHUNK = 1024 * 1024;   // the API's read limit
const FOLLOW_MS = 2000;      // no polling faster than 2 s
const KEEP = 512 * 1024;     // characters kept on screen while following

export function sandboxPage(main, [rawTask], query) {
  const task = decodeURIComponent(rawTask);
  const base = `/api/berth/tasks/${encodeURIComponent(task)}/files`;
  const path = query.get('path') || '';
  let follow = query.get('follow') === '1';
  const view = h('div');
  main.append(h('h1', {}, 'Sandbox'), h('p', {}, h('span', { class: 'muted' }, 'Task '), h('code', { id: 'sandbox-task' }, task)), view);
  const nav = (p, f) => `#/task/${encodeURIComponent(task)}?path=${encodeURIComponent(p)}${f ? '&follow=1' : ''}`;
  const fileLink = (p, f) => `#/task/${encodeURIComponent(task)}?file=${encodeURIComponent(p)}${f ? '&follow=1' : ''}`;
  const bytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
  let timer = null; let stopped = false;

  async function browse(dir) {
    let list;
    try { list = await get(`${base}/browse?path=${encodeURIComponent(dir)}`); } catch (e) {
      view.replaceChildren(h('p', { class: 'errors' }, e.message)); return;
    }
    if (!Array.isArray(list)) list = [];
    view.replaceChildren(h('h2', {}, dir || '/'), h('div', { class: 'table-wrap' }, h('table', { id: 'files' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'num' }, 'Size'), h('th', { class: 'hide-narrow' }, 'Mode'), h('th', { class: 'hide-narrow' }, 'Modified'))),
      h('tbody', {}, list.map((f) => {
        const name = f.path.split('/').pop(); const isDir = (f.mode || '').startsWith('d');
        return h('tr', {}, h('td', {}, h('a', { href: isDir ? nav(f.path) : fileLink(f.path) }, isDir ? `${name}/` : name)),
          h('td', { class: 'num' }, isDir ? '–' : bytes(f.size)),
          h('td', { class: 'hide-narrow' }, f.mode), h('td', { class: 'hide-narrow' }, new Date(f.mtime * 1000).toLocaleString()));
      })))));
  }

  async function openFile(file) {
    const pre = h('pre', { class: 'log', id: 'log', tabindex: '0', 'aria-label': `Contents of ${file}`, 'aria-live': 'off' });
    const followBox = h('input', { type: 'checkbox', id: 'follow', checked: follow, onchange: () => { follow = followBox.checked; history.replaceState(null, '', fileLink(file, follow)); if (follow) tick(); } });
    const status = h('span', { class: 'muted', role: 'status' });
    view.replaceChildren(h('h2', {}, file),
      h('div', { class: 'actions' }, h('a', { class: 'button secondary', href: nav('') }, '‹ Sandbox'),
        h('label', { for: 'follow', class: 'inline' }, followBox, ' Follow'),
        h('button', { class: 'secondary', onclick: () => download(file) }, 'Download'), status), pre);
    let offset;
    try {
      const end = (await get(`${base}/read?path=${encodeURIComponent(file)}`)).offset;
      offset = Math.max(0, end - TAIL);
    } catch (e) { pre.textContent = e.message; return; }
    async function tick() {
      clearTimeout(timer);
      if (stopped) return;
      try {
        for (;;) {
          const r = await get(`${base}/read?path=${encodeURIComponent(file)}&offset=${offset}&length=${CHUNK}`);
          if (stopped) return;
          if (r.data) {
            const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
            pre.textContent = (pre.textContent + r.data).slice(-KEEP);
            if (atEnd) pre.scrollTop = pre.scrollHeight;
          }
          offset = r.offset + (r.data ? new TextEncoder().encode(r.data).length : 0);
          if (!r.data || r.data.length < CHUNK / 4) break;
        }
        status.textContent = `${bytes(offset)}${follow ? ' · following' : ''}`;
      } catch (e) { status.textContent = e.message; }
      if (follow && !stopped) timer = setTimeout(tick, FOLLOW_MS);
    }
    tick();
  }

  async function download(file) {
    const parts = []; let off = 0;
    try {
      for (;;) {
        const r = await get(`${base}/read?path=${encodeURIComponent(file)}&offset=${off}&length=${CHUNK}`);
        if (!r.data) break;
        parts.push(r.data); off = r.offset + new TextEncoder().encode(r.data).length;
      }
    } catch (e) { toast(`Download failed: ${e.message}`); return; }
    const a = h('a', { href: URL.createObjectURL(new Blob(parts, { type: 'text/plain' })), download: `${task}-${file.split('/').pop()}` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  const file = query.get('file') || (path === 'stdout' || path === 'stderr' ? path : '');
  if (file) openFile(file); else browse(path);
  return () => { stopped = true; clearTimeout(timer); };
}
