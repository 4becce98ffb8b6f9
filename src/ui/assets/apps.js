// Apps: the filterable, paged list; one app with its tasks and actions; the create form.
import { h, bar, fmt, badge, ago, toast, dialog, pager } from './dom.js';
import { api, get, store, appPath } from './api.js';
import { whyWaiting } from './why.js';
import { appForm } from './appform.js';

const PAGE = 50;

export function appStatus(app, q) {
  if (q && q.delay && q.delay.timeLeftSeconds > 0) return 'delayed';
  if ((app.deployments || []).length) return q && q.count > 0 && !(app.tasksRunning > 0) ? 'waiting' : 'deploying';
  if (q && q.count > 0) return 'waiting';
  if (app.instances === 0) return 'suspended';
  return 'running';
}

export function healthBar(app) {
  const n = app.instances || 0;
  const healthy = app.tasksHealthy || 0; const unhealthy = app.tasksUnhealthy || 0;
  const running = app.tasksRunning || 0; const staged = app.tasksStaged || 0;
  const checked = (app.healthChecks || []).length > 0;
  const parts = checked
    ? [{ cls: 'ok', value: healthy }, { cls: 'bad', value: unhealthy }, { cls: 'unk', value: Math.max(0, running - healthy - unhealthy) }, { cls: 'stage', value: staged }]
    : [{ cls: 'ok', value: running }, { cls: 'stage', value: staged }];
  const label = checked ? `${healthy} healthy · ${unhealthy} unhealthy · ${Math.max(0, running - healthy - unhealthy)} unknown`
    : `${running} running${staged ? ` · ${staged} staging` : ''}`;
  return bar(parts, Math.max(n, running + staged), label);
}

function queueMap(queue) { const m = {}; for (const q of queue || []) m[q.app.id] = q; return m; }
const link = (id) => `#/app${id}`;

export function appsPage(main, _args, query) {
  let q = query.get('q') || ''; let st = query.get('status') || ''; let page = Number(query.get('page') || 1);
  const search = h('input', { id: 'app-filter', type: 'search', value: q, placeholder: 'id contains…', oninput: () => { q = search.value; page = 1; sync(); draw(); } });
  const status = h('select', { id: 'app-status', onchange: () => { st = status.value; page = 1; sync(); draw(); } },
    ['', 'running', 'deploying', 'waiting', 'delayed', 'suspended'].map((s) => h('option', { value: s, selected: s === st }, s || 'any')));
  const body = h('tbody'); const pg = h('div'); const count = h('span', { class: 'muted', role: 'status' });
  main.append(h('h1', {}, 'Apps'),
    h('div', { class: 'toolbar' },
      h('div', {}, h('label', { for: 'app-filter' }, 'Filter'), search),
      h('div', {}, h('label', { for: 'app-status' }, 'Status'), status),
      h('a', { class: 'button', href: '#/new-app' }, 'Create app'), count),
    h('div', { class: 'table-wrap' }, h('table', { id: 'apps' }, h('thead', {}, h('tr', {},
      h('th', {}, 'ID'), h('th', {}, 'Status'), h('th', { class: 'num' }, 'Instances'), h('th', {}, 'Health'),
      h('th', { class: 'num hide-narrow' }, 'CPU'), h('th', { class: 'num hide-narrow' }, 'Memory'))), body)), pg);
  let apps = []; let queue = {};
  function sync() {
    const p = new URLSearchParams(); if (q) p.set('q', q); if (st) p.set('status', st); if (page > 1) p.set('page', page);
    history.replaceState(null, '', `#/apps${p.toString() ? `?${p}` : ''}`);
  }
  function draw() {
    const rows = apps.map((a) => [a, appStatus(a, queue[a.id])]).filter(([a, s]) => (!q || a.id.includes(q)) && (!st || s === st));
    const p = pager(rows.length, page, PAGE, (n) => { page = n; sync(); draw(); });
    count.textContent = `${rows.length} of ${apps.length} apps`;
    body.replaceChildren(...rows.slice(p.start, p.end).map(([a, s]) => h('tr', { 'data-app': a.id },
      h('td', {}, h('a', { href: link(a.id) }, a.id)), h('td', {}, badge(s)),
      h('td', { class: 'num' }, `${a.tasksRunning || 0} / ${a.instances}`), h('td', {}, healthBar(a)),
      h('td', { class: 'num hide-narrow' }, fmt(a.cpus)), h('td', { class: 'num hide-narrow' }, fmt(a.mem, 'MB')))));
    if (!rows.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, apps.length ? 'No app matches.' : 'No apps yet.')));
    pg.replaceChildren(p.el);
  }
  const offs = [store.apps.subscribe((d) => { apps = d || []; draw(); }), store.queue.subscribe((d) => { queue = queueMap(d); draw(); })];
  return () => offs.forEach((f) => f());
}

export function newAppPage(main) {
  main.append(h('h1', {}, 'Create app'));
  appForm(main, null, async (def) => {
    await api('POST', '/v2/apps', def);
    toast(`Created ${def.id}`, true);
    location.hash = link(def.id.startsWith('/') ? def.id : `/${def.id}`);
  });
}

async function act(what, fn) {
  try { await fn(); toast(`${what}: done`, true); store.apps.refresh(); store.deployments.refresh(); } catch (e) {
    toast(`${what} failed: ${e.message}${e.body && e.body.details ? ` — ${JSON.stringify(e.body.details)}` : ''}`);
  }
}

export function appPage(main, [rawId]) {
  const id = `/${rawId.replace(/^\/+/, '')}`;
  const p = `/v2/apps/${appPath(id)}`;
  const head = h('div'); const why = h('section', { 'aria-labelledby': 'why-h' }); const tasksEl = h('div');
  const versions = h('div'); const deps = h('div');
  const vols = h('section');
  main.append(h('p', {}, h('a', { href: '#/apps' }, '‹ Apps')), head, why, h('h2', {}, 'Tasks'), tasksEl, vols, h('h2', {}, 'Deployments'), deps, h('h2', {}, 'Versions'), versions);
  let app = null; let q = null; let state = null; let tasks = []; let taskPage = 1; let gone = false;
  const scaleIn = h('input', { id: 'scale-n', type: 'number', min: 0, step: 1, class: 'narrow' });

  function stateful(a) { return ((a.container && a.container.volumes) || []).some((v) => v.persistent || v.external); }
  function drawHead() {
    if (!app) { head.replaceChildren(h('h1', {}, id), h('p', {}, gone ? 'This app does not exist (or was destroyed).' : 'Loading…')); return; }
    const s = appStatus(app, q);
    if (document.activeElement !== scaleIn) scaleIn.value = app.instances;
    head.replaceChildren(h('h1', {}, id, ' ', badge(s)),
      h('dl', { class: 'kv' }, h('dt', {}, 'Instances'), h('dd', { id: 'app-instances' }, `${app.tasksRunning || 0} running / ${app.instances} wanted`),
        h('dt', {}, 'Health'), h('dd', {}, healthBar(app)),
        h('dt', {}, 'Resources'), h('dd', {}, `CPU ${fmt(app.cpus)} · memory ${fmt(app.mem, 'MB')} · disk ${fmt(app.disk, 'MB')}`),
        h('dt', {}, 'Command'), h('dd', {}, h('code', {}, app.cmd || (app.container && app.container.docker ? app.container.docker.image : '–'))),
        h('dt', {}, 'Version'), h('dd', {}, app.version)),
      h('div', { class: 'actions' },
        h('label', { for: 'scale-n', class: 'inline' }, 'Instances'), scaleIn,
        h('button', { id: 'scale', onclick: () => act('Scale', () => api('PUT', p, { instances: Number(scaleIn.value) })) }, 'Scale'),
        h('button', { class: 'secondary', onclick: () => act('Restart', () => api('POST', `${p}/restart`)) }, 'Restart'),
        h('button', { class: 'secondary', disabled: app.instances === 0, onclick: () => act('Suspend', () => api('PUT', p, { instances: 0 })) }, 'Suspend'),
        h('button', { class: 'secondary', onclick: edit }, 'Edit'),
        h('button', { class: 'danger', onclick: destroy }, 'Destroy')));
  }
  async function destroy() {
    const wipe = stateful(app);
    const typed = h('input', { id: 'confirm-id', autocomplete: 'off' });
    const body = wipe
      ? h('div', {}, h('p', {}, 'This app has persistent volumes. Destroying it with wipe deletes its data for good.'),
        h('label', { for: 'confirm-id' }, `Type ${id} to confirm`), typed)
      : h('p', {}, `Stop every task of ${id} and remove it?`);
    const ok = await dialog(`Destroy ${id}`, body, 'Destroy', true, wipe ? () => typed.value === id : null);
    if (ok) act('Destroy', async () => { await api('DELETE', `${p}${wipe ? '?wipe=true' : ''}`); location.hash = '#/apps'; });
  }
  function edit() {
    const box = h('section', { class: 'card' }, h('h2', {}, 'Edit'));
    head.after(box);
    const def = { ...app };
    for (const k of ['version', 'versionInfo', 'tasksStaged', 'tasksRunning', 'tasksHealthy', 'tasksUnhealthy', 'deployments', 'lastTaskFailure', 'tasks']) delete def[k];
    appForm(box, def, async (d) => { await api('PUT', p, d); toast('Saved', true); box.remove(); store.apps.refresh(); }, () => box.remove());
  }
  function drawWhy() {
    const ltf = app && app.lastTaskFailure;
    if (!q && !ltf) { why.replaceChildren(); return; }
    const kids = [h('h2', { id: 'why-h' }, q ? 'Why is it waiting?' : 'Last task failure')];
    if (q) {
      const w = whyWaiting(app || q.app, q, state, tasks);
      kids.push(h('p', {}, `${q.count} instance(s) waiting since ${ago(q.since)}. ${w.fits} of ${w.agents} agents could take one now.`));
      kids.push(h('ul', { class: 'why', id: 'why-reasons' }, w.reasons.length ? w.reasons.map((r) => h('li', {}, r.agents === null ? r.reason : `${r.reason}: rules out ${r.agents} of ${w.agents} agents`))
        : h('li', {}, 'Nothing rules the agents out: the next scheduling pass should place it.')));
    }
    if (ltf) kids.push(h('p', { id: 'last-failure' }, h('strong', {}, 'Last task failure '), `${ago(ltf.timestamp)} on ${ltf.host}: ${ltf.state} — ${ltf.message || 'no message'}`));
    why.replaceChildren(h('div', { class: 'card' }, kids));
  }
  function drawTasks() {
    const pgr = pager(tasks.length, taskPage, PAGE, (n) => { taskPage = n; drawTasks(); });
    const kill = (t, scale) => act(scale ? 'Kill and scale' : 'Kill', () => api('DELETE', `${p}/tasks/${encodeURIComponent(t.id)}${scale ? '?scale=true' : ''}`));
    tasksEl.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { id: 'tasks' }, h('thead', {}, h('tr', {},
      h('th', {}, 'Task'), h('th', {}, 'State'), h('th', {}, 'Host'), h('th', {}, 'Ports'), h('th', { class: 'num' }, 'Index'),
      h('th', { class: 'hide-narrow' }, 'Volumes'), h('th', {}, 'Health'), h('th', { class: 'hide-narrow' }, 'Started'), h('th', {}, 'Actions'))),
    h('tbody', {}, tasks.length ? tasks.slice(pgr.start, pgr.end).map((t) => {
      const hc = t.healthCheckResults || [];
      return h('tr', { 'data-task': t.id },
        h('td', {}, h('a', { href: `#/task/${encodeURIComponent(t.id)}` }, t.id)), h('td', {}, badge(t.state || 'TASK_STAGING')),
        h('td', {}, t.host), h('td', {}, (t.ports || []).map((port, i) => [i ? ' ' : '', h('a', { href: `http://${t.host}:${port}/`, target: '_blank', rel: 'noopener' }, String(port))])),
        h('td', { class: 'num' }, t.index ?? '–'),
        h('td', { class: 'hide-narrow' }, (t.localVolumes || []).map((v) => v.containerPath || v.persistenceId).join(', ') || '–'),
        h('td', {}, hc.length ? badge(hc.every((r) => r.alive) ? 'healthy' : 'unhealthy') : '–'),
        h('td', { class: 'hide-narrow' }, ago(t.startedAt)),
        h('td', {}, h('div', { class: 'actions' },
          h('button', { class: 'secondary', 'aria-label': `Kill ${t.id}`, onclick: () => kill(t, false) }, 'Kill'),
          h('button', { class: 'secondary', 'aria-label': `Kill and scale ${t.id}`, onclick: () => kill(t, true) }, 'Kill & scale'),
          h('a', { class: 'button secondary', href: `#/task/${encodeURIComponent(t.id)}?file=stdout&follow=1` }, 'Logs'))));
    }) : h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No tasks.'))))), pgr.el);
  }
  async function loadTasks() {
    try { tasks = (await get(`${p}/tasks`)).tasks || []; } catch { tasks = []; }
    drawTasks(); drawWhy();
  }
  async function loadVolumes() {
    if (!app || !stateful(app)) { vols.replaceChildren(); return; }
    try {
      const all = ((await get('/api/berth/volumes')).volumes || []).filter((v) => v.app === id).sort((a, b) => a.index - b.index);
      vols.replaceChildren(h('h2', {}, 'Volumes'), h('div', { class: 'table-wrap' }, h('table', { id: 'volumes' },
        h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'Instance'), h('th', {}, 'Path'), h('th', {}, 'Volume'), h('th', {}, 'Size / driver'), h('th', {}, 'Host'), h('th', {}, 'State'))),
        h('tbody', {}, all.length ? all.map((v) => h('tr', {}, h('td', { class: 'num' }, v.index ?? '–'), h('td', {}, v.containerPath),
          h('td', {}, v.persistenceId || v.name || '–'), h('td', {}, v.sizeMiB !== undefined ? `${v.sizeMiB} MiB` : v.driver || '–'),
          h('td', {}, v.host || '–'), h('td', {}, badge(v.state || 'waiting'))))
          : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No volumes yet.'))))));
    } catch (e) { vols.replaceChildren(h('p', { class: 'muted' }, `Volumes unavailable: ${e.message}`)); }
  }
  async function loadVersions() {
    try {
      const vs = ((await get(`${p}/versions`)).versions || []).slice(0, 20);
      versions.replaceChildren(h('ul', { id: 'versions' }, vs.map((v, i) => h('li', {}, v, i === 0 ? ' (current)' : [' ',
        h('button', { class: 'secondary', onclick: () => act(`Roll back to ${v}`, async () => {
          const def = await get(`${p}/versions/${encodeURIComponent(v)}`);
          for (const k of ['version', 'versionInfo']) delete def[k];
          await api('PUT', p, def);
        }) }, 'Roll back to this')]))));
    } catch (e) { versions.replaceChildren(h('p', { class: 'muted' }, e.message)); }
  }
  const offs = [
    store.apps.subscribe((d) => {
      const a = (d || []).find((x) => x.id === id);
      gone = !a && d !== null; app = a || null; drawHead(); loadTasks(); if (a) { loadVersions(); loadVolumes(); }
    }),
    store.queue.subscribe((d) => { q = (d || []).find((x) => x.app.id === id) || null; drawHead(); drawWhy(); }),
    store.state.subscribe((d) => { state = d; drawWhy(); }),
    store.deployments.subscribe((d) => {
      const mine = (d || []).filter((x) => (x.affectedApps || []).includes(id));
      deps.replaceChildren(mine.length ? h('ul', {}, mine.map((x) => h('li', {}, h('a', { href: '#/deployments' }, x.id), ` step ${x.currentStep} of ${x.totalSteps}`)))
        : h('p', { class: 'muted' }, 'None in progress.'));
    }),
  ];
  drawHead();
  return () => offs.forEach((f) => f());
}

export function queuePage(main) {
  const list = h('div', { id: 'queue' });
  main.append(h('h1', {}, 'Waiting apps'), h('p', { class: 'muted' }, 'Apps with instances the master could not place yet (/v2/queue), and why.'), list);
  let queue = []; let state = null; let apps = {};
  function draw() {
    list.replaceChildren(...(queue.length ? queue.map((q) => {
      const a = apps[q.app.id] || q.app;
      const w = whyWaiting(a, q, state, []);
      return h('div', { class: 'card' }, h('h2', {}, h('a', { href: link(q.app.id) }, q.app.id), ` — ${q.count} waiting since ${ago(q.since)}`),
        h('ul', { class: 'why' }, w.reasons.map((r) => h('li', {}, r.agents === null ? r.reason : `${r.reason}: rules out ${r.agents} of ${w.agents} agents`))),
        a.lastTaskFailure ? h('p', {}, `Last failure: ${a.lastTaskFailure.message}`) : null);
    }) : [h('p', {}, 'Nothing is waiting.')]));
  }
  const offs = [store.queue.subscribe((d) => { queue = d || []; draw(); }), store.state.subscribe((d) => { state = d; draw(); }),
    store.apps.subscribe((d) => { apps = {}; for (const a of d || []) apps[a.id] = a; draw(); })];
  return () => offs.forEach((f) => f());
}
