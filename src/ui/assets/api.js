// The public APIs the console speaks (docs/api.md, docs/operator-api.md), and the live
// store: resources refreshed when /v2/events says they changed, never more often than every
// 2 s, with a slow poll as a safety net if the stream is down.
import { h } from './dom.js';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// Credentials (docs/security.md): when the master answers 401, the page asks for a principal
// and secret in its own form, keeps `Basic base64(principal:secret)` in sessionStorage (gone
// when the tab closes) and sends it on every call. Calls use credentials: 'omit', so the
// browser never opens its own Basic dialog and never sends credentials the page did not set.
const AUTH_KEY = 'berth-authorization';
let authorization = sessionStorage.getItem(AUTH_KEY);
let loginPromise = null;
export function authHeaders() { return authorization ? { Authorization: authorization } : {}; }

function login(failed) {
  if (loginPromise) return loginPromise;
  loginPromise = new Promise((resolve) => {
    const user = h('input', { id: 'login-principal', name: 'principal', autocomplete: 'username', required: true });
    const pass = h('input', { id: 'login-secret', name: 'secret', type: 'password', autocomplete: 'current-password', required: true });
    const err = h('p', { id: 'login-error', class: 'error', role: 'alert' }, failed ? 'Wrong principal or secret: the master answered 401.' : '');
    const d = h('dialog', { id: 'login', 'aria-label': 'Log in' },
      h('form', { method: 'dialog' },
        h('h2', {}, 'Log in to the master'),
        h('p', { class: 'muted' }, 'This master wants credentials (--credentials / --http_credentials).'),
        h('label', { for: 'login-principal' }, 'Principal'), user,
        h('label', { for: 'login-secret' }, 'Secret'), pass, err,
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Log in'))));
    d.addEventListener('cancel', (e) => e.preventDefault()); // nothing works without it
    d.querySelector('form').addEventListener('submit', () => {
      const bytes = new TextEncoder().encode(`${user.value}:${pass.value}`);
      authorization = 'Basic ' + btoa(String.fromCharCode(...bytes));
      sessionStorage.setItem(AUTH_KEY, authorization);
      d.remove();
      loginPromise = null;
      resolve();
    });
    document.body.append(d);
    d.showModal();
  });
  return loginPromise;
}

export async function api(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    const init = { method, credentials: 'omit', headers: { Accept: 'application/json', ...authHeaders() } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const sent = authorization;
    const r = await fetch(path, init);
    if (r.status === 401) {
      if (sent !== authorization) continue;        // another call logged in meanwhile
      await login(Boolean(sent));
      continue;
    }
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = { message: text }; }
    if (!r.ok) throw new ApiError(r.status, json);
    return { status: r.status, body: json, headers: r.headers };
  }
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

// The event stream read with fetch (EventSource cannot send an Authorization header): the
// Server-Sent Events text parsed here, reconnecting 3 s after it ends or fails.
function dispatch(type, raw) {
  if (!AFFECTS[type]) return;
  let data = null;
  try { data = JSON.parse(raw); } catch { return; }
  recentEvents.unshift({ type, data, at: Date.now() });
  if (recentEvents.length > RECENT_MAX) recentEvents.length = RECENT_MAX;
  for (const k of AFFECTS[type]) store[k].refresh();
  for (const fn of eventSubs) fn(type, data);
}

async function streamOnce(setStatus) {
  const r = await fetch('/v2/events', { credentials: 'omit', headers: { Accept: 'text/event-stream', ...authHeaders() } });
  if (r.status === 401) { await login(Boolean(authorization)); return; }
  if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
  setStatus('live', true);
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = ''; let type = 'message'; let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    if (buf.length > 4 << 20) throw new Error('an event over 4 MiB');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') { if (data.length) dispatch(type, data.join('\n')); type = 'message'; data = []; continue; }
      if (line.startsWith(':')) continue;
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      const val = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
      if (field === 'event') type = val; else if (field === 'data') data.push(val);
    }
  }
}

export function connectEvents(setStatus) {
  (async () => {
    for (;;) {
      try { await streamOnce(setStatus); } catch { /* reconnect below */ }
      setStatus('reconnecting…', false);
      await new Promise((r) => setTimeout(r, 3000));
    }
  })();
  setInterval(() => { for (const r of Object.values(store)) if (r.subs.size) r.refresh(); }, SAFETY_POLL);
}
