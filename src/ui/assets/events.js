// Events: the live /v2/events stream, newest first (the last 500 kept in memory).
import { h } from './dom.js';
import { onEvent, recentEvents, EVENT_TYPES } from './api.js';

function summary(e) {
  const d = e.data;
  return [d.appId || (d.plan && d.plan.id) || d.id || '', d.taskId || '', d.taskStatus || '', d.message || ''].filter(Boolean).join(' · ');
}

export function eventsPage(main, _args, query) {
  let filter = query.get('type') || '';
  const body = h('tbody');
  const types = h('select', { id: 'ev-type', onchange: () => { filter = types.value; draw(); } },
    h('option', { value: '' }, 'all'),
    EVENT_TYPES.map((t) => h('option', { value: t, selected: t === filter }, t)));
  main.append(h('h1', {}, 'Events'),
    h('div', { class: 'toolbar' }, h('div', {}, h('label', { for: 'ev-type' }, 'Type'), types)),
    h('p', { class: 'muted' }, 'Live from /v2/events since this page was opened (the last 500).'),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Type'), h('th', {}, 'What'))), body)));
  function draw() {
    const rows = recentEvents.filter((e) => !filter || e.type === filter).slice(0, 200);
    body.replaceChildren(...rows.map((e) => h('tr', {},
      h('td', {}, new Date(e.at).toLocaleTimeString()), h('td', {}, e.type), h('td', {}, summary(e)))));
    if (!rows.length) body.append(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No events yet.')));
  }
  draw();
  let pending = null;
  const off = onEvent(() => { if (!pending) pending = setTimeout(() => { pending = null; draw(); }, 250); });
  return () => { off(); clearTimeout(pending); };
}
