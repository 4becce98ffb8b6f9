// Small plots of the last hour from the master's own history (GET /api/berth/metrics/history:
// one sample every 10 s, 360 kept by the master), so a fresh page shows the past hour at once.
// The page asks for what is newer than its last sample every 10 s, keeping at most 360.
import { h } from './dom.js';
import { get } from './api.js';

const EVERY = 10000;
const KEEP = 360;
const ring = [];
const subs = new Set();

async function sample() {
  try {
    const last = ring[ring.length - 1];
    const r = await get('/api/berth/metrics/history' + (last ? `?since=${last.t}` : ''));
    for (const x of r.samples || []) {
      ring.push({
        t: x.timestamp, tasks: x.tasksRunning, cpusUsed: x.cpusUsed, cpus: x.cpus,
        memUsed: x.memUsed, mem: x.mem, diskUsed: x.diskUsed, disk: x.disk,
        updatesPerSec: x.statusUpdatesPerSecond,
      });
    }
    if (ring.length > KEEP) ring.splice(0, ring.length - KEEP);
    for (const fn of subs) fn(ring);
  } catch { /* the next tick tries again */ }
}

let started = false;
export function startSampling() {
  if (started) return;
  started = true;
  sample();
  setInterval(sample, EVERY);
}

export function onSamples(fn) { subs.add(fn); fn(ring); return () => subs.delete(fn); }

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

// A sparkline of f over the ring, with its latest value and peak as text.
export function plot(title, samples, f, unit) {
  const W = 300; const H = 60;
  const vals = samples.map(f);
  const max = Math.max(1e-9, ...vals);
  const last = vals.length ? vals[vals.length - 1] : 0;
  const text = `${title}: ${fmtv(last)}${unit} now, peak ${fmtv(vals.length ? max : 0)}${unit} (${samples.length} samples)`;
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', height: H, role: 'img', 'aria-label': text, preserveAspectRatio: 'none' });
  if (vals.length > 1) {
    const t0 = samples[0].t; const span = Math.max(1, samples[samples.length - 1].t - t0);
    const pts = samples.map((x, i) => `${((x.t - t0) / span) * W},${H - 2 - (vals[i] / max) * (H - 4)}`).join(' ');
    s.append(svg('polyline', { points: pts, fill: 'none', stroke: '#0b5cad', 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' }));
  }
  return h('div', { class: 'card' }, h('strong', {}, title), s, h('div', { class: 'barlabel' }, text));
}
function fmtv(v) { return Number.isInteger(v) ? String(v) : v.toFixed(2); }
