// The public APIs the console speaks (docs/api.md, docs/operator-api.md), and the live
// store: resources refreshed when /v2/events says they changed, never more often than every
// 2 s, with a slow poll as a safety net if the stream is down.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = { message: text }; }
  if (!r.ok) throw new ApiError(r.status, json);
  return { status: r.status, body: json, headers: r.headers };
}

export const get = (p) => api('GET', p).then((r) => r.body);
export const operator = (type) => api('POST', '/api/v1', { type }).then((r) => r.body);

export function appPath(id) {
  return id.split('/').filter(Boolean).map(encodeURIComponent).join('/');
}

const MIN_INTERVAL = 2000;  // no refresh loop faster than this
const SAFETY_POLL = 15000;  // when no event says anything changed

// A resource: its data, listeners, and a throttled refresh.
class Resource {
  constructor(load) { this.load = load; this.data = null; this.subs = new Set(); this.last = 0; this.timer = null; this.busy = null; this.error = null; }
  subscribe(fn) {
    this.subs.add(fn);
    if (this.data) fn(this.data); else this.refresh();
    return () => this.subs.delete(fn);
  }
  refresh() {  // now, or as soon as MIN_INTERVAL allows
    if (this.timer) return;
    const wait = Math.max(0, this.last + MIN_INTERVAL - Date.now());
    this.timer = setTimeout(() => { this.timer = null; this.fetch(); }, wait);
  }
  async fetch() {
    if (this.busy) { this.refresh(); return; }
    this.last = Date.now();
    this.busy = this.load().then((d) => { this.data = d; this.error = null; }, (e) => { this.error = e; });
    await this.busy;
    this.busy = null;
    for (const fn of this.subs) fn(this.data, this.error);
  }
}

export const store = {
  apps: new Resource(() => get('/v2/apps?embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure').then((b) => b.apps)),
  queue: new Resource(() => get('/v2/queue').then((b) => b.queue)),
  deployments: new Resource(() => get('/v2/deployments')),
  state: new Resource(() => get('/master/state')),
};

// What each event type invalidates.
const AFFECTS = {
  api_post_event: ['apps', 'deployments', 'queue'],
  status_update_event: ['apps', 'queue', 'state'],
  instance_changed_event: ['apps', 'queue'],
  health_status_changed_event: ['apps'],
  failed_health_check_event: ['apps'],
  unhealthy_instance_kill_event: ['apps'],
  deployment_info: ['deployments', 'apps'],
  deployment_step_success: ['deployments', 'apps'],
  deployment_step_failure: ['deployments', 'apps'],
  deployment_success: ['deployments', 'apps', 'queue'],
  deployment_failed: ['deployments', 'apps', 'queue'],
  app_terminated_event: ['apps', 'queue', 'deployments', 'state'],
};
export const EVENT_TYPES = Object.keys(AFFECTS);

const eventSubs = new Set();
export function onEvent(fn) { eventSubs.add(fn); return () => eventSubs.delete(fn); }
export const recentEvents = [];  // bounded: the last 500
const RECENT_MAX = 500;

export function connectEvents(setStatus) {
  const es = new EventSource('/v2/events');
  es.addEventListener('event_stream_attached', () => setStatus('live', true));
  es.onopen = () => setStatus('live', true);
  es.onerror = () => setStatus('reconnecting…', false);
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, (m) => {
      let data = null;
      try { data = JSON.parse(m.data); } catch { return; }
      recentEvents.unshift({ type, data, at: Date.now() });
      if (recentEvents.length > RECENT_MAX) recentEvents.length = RECENT_MAX;
      for (const k of AFFECTS[type]) store[k].refresh();
      for (const fn of eventSubs) fn(type, data);
    });
  }
  setInterval(() => { for (const r of Object.values(store)) if (r.subs.size) r.refresh(); }, SAFETY_POLL);
  return es;
}
