// Cluster: resources used/reserved/total, agents, roles with weights and quotas, frameworks.
import { h, bar, fmt, badge, ago } from './dom.js';
import { store, operator } from './api.js';
import { onSamples, plot } from './plots.js';

const KINDS = [['cpus', 'CPU', ''], ['mem', 'Memory', 'MB'], ['disk', 'Disk', 'MB'], ['gpus', 'GPUs', '']];

export function sumReserved(r) {
  // reserved_resources is keyed by role: {"role": {cpus, mem, …}}
  const out = {};
  for (const v of Object.values(r || {})) for (const [k, n] of Object.entries(v)) if (typeof n === 'number') out[k] = (out[k] || 0) + n;
  return out;
}

export function agentState(s) {
  if (s.berth_state === 'unreachable' || s.active === false) return s.berth_state || 'inactive';
  if (s.draining || s.berth_draining) return 'draining';
  return s.berth_state || (s.active ? 'active' : 'inactive');
}

function resourceBars(total, used, reserved, cls) {
  return KINDS.filter(([k]) => k !== 'gpus' || total[k] > 0).map(([k, name, unit]) =>
    h('div', { class: cls }, h('strong', {}, name),
      bar([{ cls: 'used', value: used[k] || 0, label: 'used' }, { cls: 'reserved', value: Math.max(0, (reserved[k] || 0) - (used[k] || 0)), label: 'reserved, unused' }],
        total[k] || 0, `${fmt(used[k] || 0, unit)} used · ${fmt(reserved[k] || 0, unit)} reserved · ${fmt(total[k] || 0, unit)} total`)));
}

export function clusterPage(main) {
  const summary = h('div', { class: 'grid', id: 'cluster-resources' });
  const agents = h('tbody');
  const roles = h('tbody');
  const fws = h('tbody');
  const info = h('p', { class: 'muted' });
  const plots = h('div', { class: 'grid', id: 'plots' });
  main.append(h('h1', {}, 'Cluster'), info, summary,
    h('h2', {}, 'Last hour'), h('p', { class: 'muted' }, 'Kept by the master (GET /api/berth/metrics/history): one sample every 10 s, the last hour.'), plots,
    h('h2', {}, 'Agents'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'agents' }, h('thead', {}, h('tr', {},
      h('th', {}, 'Agent'), h('th', {}, 'State'), h('th', { class: 'hide-narrow' }, 'Attributes'), h('th', {}, 'CPU'), h('th', {}, 'Memory'), h('th', { class: 'hide-narrow' }, 'Disk'), h('th', { class: 'num' }, 'Tasks'))), agents)),
    h('h2', {}, 'Roles'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'roles' }, h('thead', {}, h('tr', {},
      h('th', {}, 'Role'), h('th', { class: 'num' }, 'Weight'), h('th', {}, 'Quota'), h('th', {}, 'Allocated'))), roles)),
    h('h2', {}, 'Frameworks'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'frameworks' }, h('thead', {}, h('tr', {},
      h('th', {}, 'Name'), h('th', {}, 'State'), h('th', { class: 'num' }, 'Tasks'), h('th', {}, 'CPU share'), h('th', {}, 'Memory share'))), fws)));

  let total = {};
  function draw(st) {
    if (!st) return;
    total = {}; const used = {}; let reserved = {};
    const tasksBySlave = {};
    for (const f of st.frameworks || []) for (const t of f.tasks || []) tasksBySlave[t.slave_id] = (tasksBySlave[t.slave_id] || 0) + 1;
    for (const s of st.slaves || []) {
      for (const [k] of KINDS) { total[k] = (total[k] || 0) + (s.resources[k] || 0); used[k] = (used[k] || 0) + ((s.used_resources || {})[k] || 0); }
      const r = sumReserved(s.reserved_resources);
      for (const k in r) reserved[k] = (reserved[k] || 0) + r[k];
    }
    info.textContent = `master ${st.pid} · berth ${st.berth_version || st.version} · up since ${ago(st.start_time)} · ${(st.slaves || []).length} agents`;
    summary.replaceChildren(...resourceBars(total, used, reserved, 'card'));
    agents.replaceChildren(...(st.slaves || []).map((s) => {
      const r = sumReserved(s.reserved_resources); const u = s.used_resources || {};
      const b = (k, unit) => bar([{ cls: 'used', value: u[k] || 0 }, { cls: 'reserved', value: Math.max(0, (r[k] || 0) - (u[k] || 0)) }], s.resources[k] || 0, `${fmt(u[k] || 0, unit)} / ${fmt(s.resources[k] || 0, unit)}`);
      return h('tr', {},
        h('td', {}, h('div', {}, s.hostname), h('div', { class: 'muted' }, s.id)),
        h('td', {}, badge(agentState(s))),
        h('td', { class: 'hide-narrow' }, Object.entries(s.attributes || {}).map(([k, v]) => `${k}:${v}`).join(', ') || '–'),
        h('td', {}, b('cpus', '')), h('td', {}, b('mem', 'MB')), h('td', { class: 'hide-narrow' }, b('disk', 'MB')),
        h('td', { class: 'num' }, String(tasksBySlave[s.id] || 0)));
    }));
    fws.replaceChildren(...(st.frameworks || []).map((f) => {
      const u = f.used_resources || {};
      return h('tr', {}, h('td', {}, f.name), h('td', {}, badge(f.active ? 'active' : 'inactive')),
        h('td', { class: 'num' }, String((f.tasks || []).length)),
        h('td', {}, bar([{ cls: 'used', value: u.cpus || 0 }], total.cpus, `${fmt(u.cpus || 0)} (${pct(u.cpus, total.cpus)})`)),
        h('td', {}, bar([{ cls: 'used', value: u.mem || 0 }], total.mem, `${fmt(u.mem || 0, 'MB')} (${pct(u.mem, total.mem)})`)));
    }));
  }
  async function loadRoles() {
    try {
      const [r, q] = await Promise.all([operator('GET_ROLES'), operator('GET_QUOTA').catch(() => null)]);
      // GET_QUOTA's configs have guarantees and limits as {name: {value}} (its infos have
      // a Resource array instead); GET_ROLES's quota has the same shape.
      const quotas = {};
      for (const c of ((q && q.get_quota && q.get_quota.status && q.get_quota.status.configs) || [])) quotas[c.role] = c;
      roles.replaceChildren(...((r.get_roles && r.get_roles.roles) || []).map((role) => {
        const alloc = {};
        for (const x of role.allocated || role.resources || []) if (x.scalar) alloc[x.name] = x.scalar.value;
        const qi = quotas[role.name] || role.quota || {};
        const amounts = (o, pre) => Object.entries(o || {}).map(([k, v]) => `${k} ${pre}${fmt(v.value ?? v)}`);
        const quota = [...amounts(qi.guarantees, ''), ...amounts(qi.limits, '≤ ')].join(', ') || 'none';
        return h('tr', {}, h('td', {}, role.name), h('td', { class: 'num' }, fmt(role.weight ?? 1)), h('td', {}, quota),
          h('td', {}, KINDS.filter(([k]) => alloc[k]).map(([k, n, unit]) => `${n} ${fmt(alloc[k], unit)}`).join(' · ') || '–'));
      }));
    } catch (e) { roles.replaceChildren(h('tr', {}, h('td', { colspan: 4 }, `Roles unavailable: ${e.message}`))); }
  }
  const off = store.state.subscribe((st) => { draw(st); loadRoles(); });
  store.state.refresh();
  const offPlots = onSamples((r) => plots.replaceChildren(
    plot('Tasks running', r, (x) => x.tasks, ''),
    plot('CPU used', r, (x) => x.cpusUsed, ''),
    plot('Memory used', r, (x) => x.memUsed, ' MiB'),
    plot('Disk used', r, (x) => x.diskUsed, ' MiB'),
    plot('Status updates', r, (x) => x.updatesPerSec, '/s')));
  return () => { off(); offPlots(); };
}

function pct(a, b) { return b ? `${((100 * (a || 0)) / b).toFixed(1)} %` : '–'; }
