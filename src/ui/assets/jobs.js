// Jobs (docs/jobs.md, the Chronos API under /v1/scheduler): each job's schedule and next
// run, last result, counters and state; "Run now"; the dependency graph drawn from the jobs'
// parents (columns by depth: scheduled jobs first, each child right of its parents).
// Jobs are not on /v2/events: the page reads them every 5 s while it is open.
import { h, ago, toast } from './dom.js';
import { api, get } from './api.js';

const EVERY = 5000;

// "R9/2026-12-07T20:00:00.000Z/PT1H" -> its start: the next run, as Chronos rewrites it.
function nextRun(job) {
  const parts = (job.schedule || '').split('/');
  if (parts.length < 3) return job.parents && job.parents.length ? `after ${job.parents.join(', ')}` : '–';
  if (/^R0$/.test(parts[0])) return 'no more runs';
  return parts[1];
}

function lastResult(job, st) {
  const s = st && st.status;
  if (s === 'success') return h('span', { class: 'badge running' }, `success ${ago(job.lastSuccess)}`);
  if (s === 'failure') return h('span', { class: 'badge waiting' }, `failure ${ago(job.lastError)}`);
  return h('span', { class: 'badge' }, 'never ran');
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// A layered drawing: depth 0 for jobs without parents, else one more than the deepest parent.
export function graph(jobs, summary) {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const depth = new Map();
  const seen = new Set();
  function d(name) {
    if (depth.has(name)) return depth.get(name);
    if (seen.has(name)) return 0; // a cycle (the API refuses them): stop
    seen.add(name);
    const j = byName.get(name);
    const v = j && j.parents && j.parents.length ? 1 + Math.max(...j.parents.map(d)) : 0;
    depth.set(name, v);
    return v;
  }
  jobs.forEach((j) => d(j.name));
  const cols = [];
  for (const j of jobs) (cols[depth.get(j.name)] ||= []).push(j.name);
  const BW = 150; const BH = 28; const GX = 60; const GY = 14;
  const W = Math.max(1, cols.length) * (BW + GX); const H = Math.max(1, ...cols.map((c) => (c || []).length)) * (BH + GY);
  const pos = new Map();
  cols.forEach((c, x) => (c || []).forEach((n, y) => pos.set(n, [x * (BW + GX) + 4, y * (BH + GY) + 4])));
  const edges = [];
  for (const j of jobs) for (const p of j.parents || []) if (pos.has(p)) edges.push([p, j.name]);
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', id: 'job-graph',
    'aria-label': `Dependency graph: ${jobs.length} jobs, ${edges.length} edges${edges.length ? ': ' + edges.map(([a, b]) => `${a} → ${b}`).join(', ') : ''}` });
  for (const [a, b] of edges) {
    const [ax, ay] = pos.get(a); const [bx, by] = pos.get(b);
    s.append(svg('line', { x1: ax + BW, y1: ay + BH / 2, x2: bx, y2: by + BH / 2, stroke: '#555', 'stroke-width': 1.5, 'data-edge': `${a}->${b}` }));
    s.append(svg('circle', { cx: bx, cy: by + BH / 2, r: 3, fill: '#555' }));
  }
  for (const [n, [x, y]] of pos) {
    const st = summary.get(n);
    const fill = st && st.status === 'failure' ? '#fbe3e3' : st && st.status === 'success' ? '#e1f3e4' : '#eef1f5';
    const g = svg('g', { 'data-node': n });
    g.append(svg('rect', { x, y, width: BW, height: BH, rx: 4, fill, stroke: '#345' }));
    g.append(svg('text', { x: x + 8, y: y + 18, 'font-size': 13, fill: '#111' }, n.length > 20 ? n.slice(0, 19) + '…' : n));
    s.append(g);
  }
  return s;
}

export function jobsPage(main) {
  const table = h('tbody', {});
  const graphBox = h('div', { class: 'card table-wrap' });
  main.append(h('h1', {}, 'Jobs'),
    h('p', { class: 'muted' }, 'From /v1/scheduler/jobs (the Chronos API), read every 5 s.'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'jobs' },
      h('thead', {}, h('tr', {}, ['Name', 'Schedule / parents', 'Next run', 'Last result', 'Success', 'Errors', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
      table)),
    h('h2', {}, 'Dependency graph'), graphBox);
  let timer = null; let gone = false;
  async function load() {
    try {
      const [jobs, sum] = await Promise.all([get('/v1/scheduler/jobs'), get('/v1/scheduler/jobs/summary')]);
      if (gone) return;
      const summary = new Map((sum.jobs || []).map((x) => [x.name, x]));
      table.replaceChildren(...(jobs.length ? jobs.map((j) => {
        const st = summary.get(j.name);
        return h('tr', { 'data-job': j.name },
          h('td', {}, j.name, j.disabled ? ' (disabled)' : ''),
          h('td', {}, j.schedule || (j.parents || []).join(', ')),
          h('td', { class: 'next-run' }, nextRun(j)),
          h('td', { class: 'last-result' }, lastResult(j, st)),
          h('td', { class: 'success-count' }, String(j.successCount ?? 0)),
          h('td', { class: 'error-count' }, String(j.errorCount ?? 0)),
          h('td', { class: 'job-state' }, st ? st.state : '–'),
          h('td', {}, h('button', { onclick: () => runNow(j.name), 'aria-label': `Run ${j.name} now` }, 'Run now')));
      }) : [h('tr', {}, h('td', { colspan: 8 }, 'No jobs. Create one with POST /v1/scheduler/iso8601 or berth job.'))]));
      graphBox.replaceChildren(graph(jobs, summary));
    } catch (e) {
      table.replaceChildren(h('tr', {}, h('td', { colspan: 8 }, `Could not read the jobs: ${e.message}`)));
    }
    if (!gone) timer = setTimeout(load, EVERY);
  }
  async function runNow(name) {
    try {
      await api('PUT', `/v1/scheduler/job/${encodeURIComponent(name)}`);
      toast(`Started ${name}`, true);
      clearTimeout(timer);
      setTimeout(load, 2000);
    } catch (e) { toast(e.message); }
  }
  load();
  return () => { gone = true; clearTimeout(timer); };
}
