// Why is an app waiting: the queue's own statistics when the master reports offers
// (processedOffersSummary, as Marathon), and otherwise the app's needs checked against
// every agent of /master/state — which constraint, role or resource rules out how many.
import { sumReserved } from './cluster.js';

function free(s, k) { return (s.resources[k] || 0) - ((s.used_resources || {})[k] || 0); }

function attr(s, field) {
  if (field === 'hostname') return s.hostname;
  const v = (s.attributes || {})[field];
  return v === undefined ? undefined : String(v);
}

// Returns the first reason agent s cannot take one more instance of app, or null.
function ruleOut(app, s, tasksOn) {
  if (s.active === false || s.berth_state === 'unreachable') return 'agent not active';
  for (const [k, name] of [['cpus', 'CPU'], ['mem', 'memory'], ['disk', 'disk'], ['gpus', 'GPUs']]) {
    const need = app[k] || 0;
    if (need > 0 && free(s, k) < need) return `not enough ${name} (needs ${need}, ${+free(s, k).toFixed(3)} free)`;
  }
  const role = app.role || '*';
  if (role !== '*') {
    const r = sumReserved({ [role]: (s.reserved_resources || {})[role] || {} });
    if (!Object.keys(r).length && !(s.resources && s.resources.cpus)) return `no resources for role ${role}`;
  }
  for (const c of app.constraints || []) {
    const [field, op, value] = c;
    const v = attr(s, field);
    const label = `constraint ${c.join(':')}`;
    switch (op) {
    case 'UNIQUE': if (tasksOn > 0) return `${label} (already runs an instance here)`; break;
    case 'CLUSTER': if (v === undefined || (value !== undefined && value !== '' && v !== value)) return label; break;
    case 'IS': if (v !== value) return label; break;
    case 'LIKE': if (v === undefined || !new RegExp(`^(?:${value})$`).test(v)) return label; break;
    case 'UNLIKE': if (v !== undefined && new RegExp(`^(?:${value})$`).test(v)) return label; break;
    case 'MAX_PER': if (tasksOn >= Number(value)) return `${label} (limit reached)`; break;
    default: break;  // GROUP_BY balances, it never rules an agent out alone
    }
  }
  return null;
}

// [{reason, agents: n}] sorted by n, plus the total number of agents.
export function whyWaiting(app, entry, state, tasks) {
  const out = [];
  const s = entry && entry.processedOffersSummary;
  if (s && s.processedOffersCount > 0) {
    for (const r of s.rejectSummaryLastOffers || []) if (r.declined > 0) out.push({ reason: `${r.reason} (offers declined)`, agents: r.declined, source: 'queue' });
  }
  if (entry && entry.delay && entry.delay.timeLeftSeconds > 0) out.push({ reason: `backing off after failures: next launch in ${Math.ceil(entry.delay.timeLeftSeconds)} s`, agents: null, source: 'queue' });
  const slaves = (state && state.slaves) || [];
  const counts = new Map();
  let fits = 0;
  const perAgent = {};
  for (const t of tasks || []) perAgent[t.slaveId] = (perAgent[t.slaveId] || 0) + 1;
  for (const sl of slaves) {
    const r = ruleOut(app, sl, perAgent[sl.id] || 0);
    if (r) counts.set(r, (counts.get(r) || 0) + 1); else fits++;
  }
  for (const [reason, n] of counts) out.push({ reason, agents: n, source: 'agents' });
  out.sort((a, b) => (b.agents || 0) - (a.agents || 0));
  return { reasons: out, agents: slaves.length, fits };
}
