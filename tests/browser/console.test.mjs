// The console in a real browser: Debian's chromium, headless, driven by playwright-core
// (which never downloads a browser here). Run by tests/integration/test_ui.py, which starts
// the berth it talks to and runs `npm ci` first when node_modules is missing.
//
//   node console.test.mjs flows  BERTH_URL=http://… (a `berth dev` with an agent rack:r1)
//   node console.test.mjs load   BERTH_URL=http://… (a master: 1,000 apps are created)
//   node console.test.mjs auth   BERTH_URL=http://… BERTH_AUTH=principal:secret (a master
//                                started with --http_credentials: the login form)
// SCREENSHOT_DIR: where each page's screenshot goes. Exit 0 when every check passed.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE = process.env.BERTH_URL;
const SHOTS = process.env.SCREENSHOT_DIR || mkdtempSync(join(tmpdir(), 'berth-shots-'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const MODE = process.argv[2] || 'flows';
const T = 30000;
mkdirSync(SHOTS, { recursive: true });

function log(...a) { console.log('[ui]', ...a); }
const AUTH = process.env.BERTH_AUTH ? { Authorization: 'Basic ' + Buffer.from(process.env.BERTH_AUTH).toString('base64') } : {};
async function api(method, path, body) {
  const r = await fetch(BASE + path, { method, headers: { 'Content-Type': 'application/json', ...AUTH }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
async function until(what, fn, timeout = T) {
  const end = Date.now() + timeout; let last;
  while (Date.now() < end) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

const profile = mkdtempSync(join(tmpdir(), 'berth-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 860 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = ctx.pages()[0] || await ctx.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
page.on('request', (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith('data:')) problems.push(`request outside the master: ${r.url()}`); });
const shot = async (name) => { await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false }); log('screenshot', name); };
const go = async (hash) => { await page.evaluate((h) => { location.hash = h; }, hash); };

async function flows() {
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#agents tbody tr', { timeout: T });
  await until('the event stream', async () => (await page.textContent('#live')).includes('live'));
  const agentRow = await page.textContent('#agents tbody tr');
  if (!agentRow.includes('rack:r1')) throw new Error(`agent row lacks its attribute: ${agentRow}`);

  // Create through the form: first a bad value, whose error shows next to its field.
  await go('#/new-app');
  await page.fill('#f-id', '/ui-web');
  await page.fill('#f-cmd', 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.2; done');
  await page.fill('#f-cpus', '-1');
  await page.fill('#f-mem', '32');
  await page.click('#f-submit');
  await page.waitForSelector('#f-cpus-err:not(:empty)', { timeout: T });
  const err = await page.textContent('#f-cpus-err');
  log('validation error next to cpus:', JSON.stringify(err));
  const general = await page.textContent('#form-errors');
  if (general !== 'Object is not valid') throw new Error(`form's general error: ${JSON.stringify(general)}`);
  if ((await api('GET', '/v2/apps')).apps.some((a) => a.id === '/ui-web')) throw new Error('a rejected create made an app');
  await shot('create-app-error');
  await page.fill('#f-cpus', '0.05');
  await page.click('#f-submit');
  await page.waitForURL(/#\/app\/ui-web$/, { timeout: T });
  await until('/ui-web running', async () => (await page.textContent('#app-instances')).startsWith('1 running / 1 wanted'));
  log('created /ui-web through the form; running');

  // Scale to 3.
  await page.fill('#scale-n', '3');
  await page.click('#scale');
  await until('3 running', async () => (await page.textContent('#app-instances')).startsWith('3 running / 3 wanted'));
  await until('3 task rows', async () => (await page.$$('#tasks tbody tr[data-task]')).length === 3);
  log('scaled to 3');
  await shot('app');

  // Kill one task and see it replaced.
  const victim = await page.getAttribute('#tasks tbody tr[data-task]', 'data-task');
  await page.click(`#tasks tbody tr[data-task="${victim}"] button:has-text("Kill")`);
  await until('the killed task replaced', async () => {
    const ids = await page.$$eval('#tasks tbody tr[data-task]', (rs) => rs.map((r) => [r.dataset.task, r.textContent]));
    return ids.length === 3 && !ids.some(([id]) => id === victim) && ids.every(([, t]) => t.includes('TASK_RUNNING'));
  });
  log('killed', victim, '— replaced');
  // A role with a weight and a quota (operator API), shown on the cluster page.
  await api('POST', '/api/v1', { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'ui-role', weight: 2.5 }] } });
  await api('POST', '/api/v1', { type: 'UPDATE_QUOTA', update_quota: { force: true, quota_configs: [{ role: 'ui-role', guarantees: { cpus: { value: 1 } }, limits: { mem: { value: 512 } } }] } });
  await go('#/cluster');
  const roleRow = await until('the role ui-role with its weight and quota', async () => {
    const rows = await page.$$eval('#roles tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent.trim())));
    const r = rows.find((x) => x[0] === 'ui-role'); return r && r[1] === '2.50' && r[2] === 'cpus 1, mem ≤ 512' && r;
  });
  log('role row:', JSON.stringify(roleRow));
  const fwRow = await until('the marathon framework with its 3 tasks', async () => {
    const rows = await page.$$eval('#frameworks tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent.trim())));
    const r = rows.find((x) => x[0] === 'marathon'); return r && r[2] === '3' && /\(\d+(\.\d+)? ?%\)/.test(r[3]) && r;
  });
  log('framework row:', JSON.stringify(fwRow));
  await until('the cluster page counts 3 tasks', async () => (await page.textContent('#agents tbody tr td:last-child')).trim() === '3');
  await until('the last-hour plots', async () => (await page.$$('#plots svg polyline')).length === 5);
  const plotText = await page.getAttribute('#plots svg', 'aria-label');
  log('plot:', plotText);
  if (!/^Tasks running: \d+ now/.test(plotText)) throw new Error(`plot label ${plotText}`);
  await shot('cluster');
  await go('#/app/ui-web');
  await page.waitForSelector('#tasks tbody tr[data-task]', { timeout: T });

  // Follow a task's log live: the lines keep coming without a reload.
  await page.click('#tasks tbody tr[data-task] a:has-text("Logs")');
  await page.waitForSelector('#log', { timeout: T });
  const first = await until('log lines', async () => { const t = await page.textContent('#log'); return t.includes('line ') && t; });
  const lastLine = (t) => Number((t.trim().split('\n').pop().match(/line (\d+)/) || [0, -1])[1]);
  const n0 = lastLine(first);
  const later = await until('new log lines', async () => { const t = await page.textContent('#log'); return lastLine(t) > n0 + 3 && t; });
  log(`followed stdout live: line ${n0} -> line ${lastLine(later)}`);
  // Download the whole file (not only the tail on screen).
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.click('button:has-text("Download")')]);
  const body = readFileSync(await dl.path(), 'utf8');
  if (!body.includes('line 0\n') || lastLine(body) < lastLine(later)) throw new Error(`download ${dl.suggestedFilename()} lacks lines: ${body.slice(0, 200)}`);
  log(`downloaded ${dl.suggestedFilename()}: lines 0 to ${lastLine(body)}`);
  await shot('sandbox-log');
  await go(`#/task/${encodeURIComponent(await page.textContent('#sandbox-task'))}?path=`);
  await page.waitForSelector('#files tbody tr', { timeout: T });
  await shot('sandbox-files');

  // Edit to a change that cannot be placed (a deployment that stays), then roll it back.
  await go('#/app/ui-web');
  await page.waitForSelector('button:has-text("Edit")', { timeout: T });
  await page.click('button:has-text("Edit")');
  await page.fill('#f-constraints', 'rack:CLUSTER:nope');
  await page.click('#f-submit');
  await go('#/deployments');
  await page.waitForSelector('#deployments [data-deployment]', { timeout: T });
  await shot('deployments');
  await page.click('#deployments [data-deployment] button:has-text("Roll back")');
  await page.click('dialog button[type=submit]');
  await until('no deployment', async () => (await api('GET', '/v2/deployments')).length === 0);
  await page.waitForSelector('#deployments p:has-text("No deployment")', { timeout: T });
  const back = (await api('GET', '/v2/apps/ui-web')).app;
  if ((back.constraints || []).length) throw new Error(`rollback left constraints ${JSON.stringify(back.constraints)}`);
  log('rolled back the deployment; /ui-web constraints', JSON.stringify(back.constraints), 'tasks running', back.tasksRunning);

  // An impossible constraint, created through the JSON editor: the console says why it waits.
  await go('#/new-app');
  await page.click('#tab-json');
  await page.fill('#f-json', JSON.stringify({ id: '/ui-stuck', cmd: 'sleep 1000', cpus: 0.01, mem: 16, instances: 1, constraints: [['rack', 'CLUSTER', 'nope']] }));
  await page.click('#f-submit');
  await page.waitForURL(/#\/app\/ui-stuck$/, { timeout: T });
  const why = await until('the why-waiting reason', async () => { const t = await page.textContent('#why-reasons'); return t.includes('rack:CLUSTER:nope') && t; });
  log('why waiting:', JSON.stringify(why));
  if (!why.includes('rules out 1 of 1 agents')) throw new Error(`reason lacks the agent count: ${why}`);
  await shot('why-waiting');
  await go('#/queue');
  await page.waitForSelector('#queue .card', { timeout: T });
  await shot('queue');
  await go('#/apps');
  await page.waitForSelector('#apps tbody tr[data-app]', { timeout: T });
  // Live: an app created elsewhere appears without a reload, sooner than the 15-s safety poll.
  const t0 = Date.now();
  await api('POST', '/v2/apps', { id: '/ui-elsewhere', cmd: 'sleep 1000', cpus: 0.01, mem: 16, instances: 1 });
  await until('the new app in the list', async () => (await page.$('#apps tbody tr[data-app="/ui-elsewhere"]')) !== null, 8000);
  log(`an app created through the API appeared in the list after ${Date.now() - t0} ms`);
  // No polling faster than every 2 s: while events flow (the app scaled every 300 ms for
  // 6 s), the page fetches no API resource more than 4 times (a leading fetch, then one
  // per 2 s).
  const seen = {};
  const onReq = (r) => { const u = new URL(r.url()); if (u.pathname !== '/v2/events' && !u.pathname.startsWith('/ui')) seen[u.pathname] = (seen[u.pathname] || 0) + 1; };
  page.on('request', onReq);
  for (let i = 0; i < 20; i++) {
    await api('PUT', '/v2/apps/ui-elsewhere?force=true', { instances: i % 2 ? 1 : 2 });
    await new Promise((r) => setTimeout(r, 300));
  }
  page.off('request', onReq);
  const worst = Object.entries(seen).sort((a, b) => b[1] - a[1])[0];
  log('API requests while 20 scale changes flowed for 6 s:', JSON.stringify(seen));
  if (!worst || worst[1] > 4) throw new Error(`polling faster than every 2 s: ${JSON.stringify(seen)}`);
  await shot('apps');
  await go('#/events');
  await page.waitForSelector('main table tbody tr', { timeout: T });
  await shot('events');

  // Destroy through the dialog.
  await go('#/app/ui-stuck');
  await page.click('button:has-text("Destroy")');
  await page.click('dialog button[type=submit]');
  await until('/ui-stuck gone', async () => !(await api('GET', '/v2/apps')).apps.some((a) => a.id === '/ui-stuck'));
  log('destroyed /ui-stuck');

  // A failing app: its last task failure, with the message, beside why it waits.
  await api('POST', '/v2/apps', { id: '/ui-fail', cmd: 'echo boom >&2; exit 3', cpus: 0.01, mem: 16 });
  await go('#/app/ui-fail');
  const failure = await until('the last task failure', async () => {
    const el = await page.$('#last-failure'); const t = el ? await el.textContent() : '';
    return t.includes('TASK_FAILED') && t.includes('Command exited with status 3') && t;
  });
  log('last failure shown:', JSON.stringify(failure));
  await api('DELETE', '/v2/apps/ui-fail');

  // A stateful app: its volumes per instance; destroying it wipes them, confirmed by typing its id.
  await api('POST', '/v2/apps', { id: '/ui-db', cmd: 'echo kept > data/f; sleep 1000', cpus: 0.01, mem: 16, instances: 1,
    container: { type: 'MESOS', volumes: [{ containerPath: 'data', mode: 'RW', persistent: { size: 8 } }] } });
  await go('#/app/ui-db');
  await until('/ui-db running', async () => (await page.textContent('#app-instances')).startsWith('1 running'));
  await until('its volume row', async () => (await page.textContent('#volumes tbody')).includes('data'));
  log('volumes of /ui-db:', JSON.stringify((await page.textContent('#volumes tbody tr')).trim()));
  await shot('stateful-app');
  await page.click('button:has-text("Destroy")');
  const ok = 'dialog button[type=submit]';
  if (!(await page.isDisabled(ok))) throw new Error('destroy of a stateful app allowed before its id was typed');
  await page.fill('#confirm-id', '/ui-d');
  if (!(await page.isDisabled(ok))) throw new Error('destroy allowed with a wrong id typed');
  await page.fill('#confirm-id', '/ui-db');
  await page.click(ok);
  await until('/ui-db gone with its volumes', async () => !(await api('GET', '/v2/apps')).apps.some((a) => a.id === '/ui-db') &&
    !(await api('GET', '/api/berth/volumes')).volumes.some((v) => v.app === '/ui-db'));
  log('destroyed /ui-db with wipe after typing its id');

  // Roll the app back to its first version (1 instance, as created) from its version list.
  await go('#/app/ui-web');
  await page.waitForSelector('#versions li button', { timeout: T });
  const nv = (await page.$$('#versions li')).length;
  await page.click('#versions li:last-child button');
  await until('/ui-web back to its first version', async () => (await page.textContent('#app-instances')).startsWith('1 running / 1 wanted'));
  log(`rolled /ui-web back to the oldest of its ${nv} versions: 1 instance`);

  // Restart: the task is replaced by a new one, still 1 running.
  const taskRows = async () => page.$$eval('#tasks tbody tr[data-task]', (rs) => rs.map((r) => [r.dataset.task, r.textContent]));
  await until('1 task row', async () => (await taskRows()).length === 1);
  const before = (await taskRows())[0][0];
  await page.click('button:has-text("Restart")');
  await until('restarted: a new task running', async () => {
    const rows = await taskRows(); return rows.length === 1 && rows[0][0] !== before && rows[0][1].includes('TASK_RUNNING');
  }, 60000);
  log('restarted: task', before, '->', (await taskRows())[0][0]);
  // Kill & scale: at 2 instances, kill one and scale down; the other stays.
  await page.fill('#scale-n', '2');
  await page.click('#scale');
  await until('2 running', async () => (await page.textContent('#app-instances')).startsWith('2 running / 2 wanted'));
  await until('2 task rows', async () => (await taskRows()).length === 2);
  const [victim2, kept] = (await taskRows()).map(([tid]) => tid);
  await page.click(`#tasks tbody tr[data-task="${victim2}"] button:has-text("Kill & scale")`);
  await until('killed and scaled to 1', async () => (await page.textContent('#app-instances')).startsWith('1 running / 1 wanted') &&
    (await taskRows()).map(([tid]) => tid).join() === kept);
  log('kill & scale: killed', victim2, '— 1 wanted, kept', kept);
  // Suspend: 0 wanted, no task left, the status says so.
  await page.click('button:has-text("Suspend")');
  await until('suspended', async () => (await page.textContent('#app-instances')).startsWith('0 running / 0 wanted') &&
    (await page.textContent('main h1')).includes('suspended') && (await taskRows()).length === 0);
  log('suspended /ui-web');

  // Jobs: a scheduled job and a dependent one; next run, the graph's edge, Run now, counters.
  await api('POST', '/v1/scheduler/iso8601', { name: 'ui-nightly', command: 'echo nightly', schedule: 'R/2030-01-01T02:30:00Z/P1D', cpus: 0.01, mem: 16 });
  await api('POST', '/v1/scheduler/dependency', { name: 'ui-report', command: 'echo report', parents: ['ui-nightly'], cpus: 0.01, mem: 16 });
  await go('#/jobs');
  await page.waitForSelector('#jobs tbody tr[data-job="ui-report"]', { timeout: T });
  const next = await page.textContent('#jobs tr[data-job="ui-nightly"] .next-run');
  if (!next.startsWith('2030-01-01')) throw new Error(`ui-nightly next run ${next}`);
  await page.waitForSelector('#job-graph line[data-edge="ui-nightly->ui-report"]', { timeout: T, state: 'attached' });
  log('jobs: next run', next, '— graph:', await page.getAttribute('#job-graph', 'aria-label'));
  await page.click('#jobs tr[data-job="ui-nightly"] button:has-text("Run now")');
  const counted = async (job) => (await page.textContent(`#jobs tr[data-job="${job}"] .success-count`)).trim() === '1'
    && (await page.textContent(`#jobs tr[data-job="${job}"] .last-result`)).startsWith('success');
  await until('ui-nightly run now: 1 success', () => counted('ui-nightly'), 60000);
  await until('its child ui-report ran after it: 1 success', () => counted('ui-report'), 60000);
  log('jobs: run now ran ui-nightly, then ui-report');
  await shot('jobs');

  // Cancel a deployment (stop tracking): it goes, and the app keeps what it has.
  await api('POST', '/v2/apps', { id: '/ui-cancel', cmd: 'sleep 1000', cpus: 0.01, mem: 16, instances: 1, constraints: [['rack', 'CLUSTER', 'nope']] });
  await go('#/deployments');
  const drow = '#deployments [data-deployment]:has-text("/ui-cancel")';
  await page.waitForSelector(drow, { timeout: T });
  const steps = await page.textContent(`${drow} ol`);
  await page.click(`${drow} button:has-text("Cancel")`);
  await page.click('dialog button[type=submit]');
  await until('the deployment no longer tracked', async () => !(await api('GET', '/v2/deployments')).some((d) => (d.affectedApps || []).includes('/ui-cancel')));
  await page.waitForSelector(`${drow}`, { state: 'detached', timeout: T });
  const left = (await api('GET', '/v2/apps/ui-cancel')).app;
  if (left.instances !== 1 || !(left.constraints || []).length) throw new Error(`cancel changed the app: ${JSON.stringify(left)}`);
  log(`cancelled the deployment of /ui-cancel (steps: ${steps.trim()}); the app stays, 1 wanted`);
  await api('DELETE', '/v2/apps/ui-cancel?force=true');

  // Keyboard: the first Tab reaches the skip link; phone width: nothing wider than the screen.
  await page.goto(`${BASE}/#/apps`);
  await page.reload();
  await page.waitForSelector('#apps tbody tr[data-app]', { timeout: T });
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement.textContent);
  if (focused !== 'Skip to content') throw new Error(`first Tab focused ${focused}`);
  await page.setViewportSize({ width: 390, height: 844 });
  for (const h of ['#/apps', '#/app/ui-web', '#/jobs', '#/cluster']) {
    await go(h);
    await page.waitForTimeout(300);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    if (w > 392) throw new Error(`${h} is ${w}px wide at a 390px phone width`);
  }
  await shot('cluster-phone');
  log('keyboard skip link and phone width: ok');
}

async function authFlow() {
  const [user, secret] = process.env.BERTH_AUTH.split(':');
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#login[open]', { timeout: T });
  await shot('login');
  await page.fill('#login-principal', user);
  await page.fill('#login-secret', 'wrong');
  await page.click('#login button[type=submit]');
  await until('the refusal shown', async () => (await page.textContent('#login-error')).includes('401'));
  log('a wrong secret: the form again, saying so');
  await page.fill('#login-principal', user);
  await page.fill('#login-secret', secret);
  await page.click('#login button[type=submit]');
  await until('the event stream, authenticated', async () => (await page.textContent('#live')).includes('● live'));
  await page.waitForSelector('#plots', { timeout: T });
  const stored = await page.evaluate(() => sessionStorage.getItem('berth-authorization'));
  if (stored !== AUTH.Authorization) throw new Error(`sessionStorage holds ${stored}`);
  await go('#/events');
  await api('POST', '/v2/apps', { id: '/ui-authed', cmd: 'sleep 1000', cpus: 0.01, mem: 16, instances: 1 });
  await until('its api_post_event on the authenticated stream', async () => (await page.textContent('main')).includes('api_post_event'));
  await go('#/apps');
  await page.waitForSelector('#apps tbody tr[data-app="/ui-authed"]', { timeout: T });
  log('logged in: the API calls and the event stream carry the credentials');
  await page.reload();
  await until('live again after a reload, without the form', async () => (await page.textContent('#live')).includes('● live'));
  if (await page.$('#login[open]')) throw new Error('the login form came back after a reload');
  log('a reload keeps the session (sessionStorage)');
}

async function load() {
  const N = Number(process.env.APPS || 1000); const INST = Number(process.env.INSTANCES || 10);
  const t0 = Date.now(); let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < N) { const i = next++; await api('POST', '/v2/apps', { id: `/load/app-${String(i).padStart(4, '0')}`, cmd: 'sleep 1000', cpus: 0.01, mem: 8, instances: INST }); }
  }));
  log(`created ${N} apps x ${INST} instances in ${Date.now() - t0} ms`);
  // RUNNING=1 (bench/console with simulated agents): wait until every instance runs.
  let running = 0;
  if (process.env.RUNNING === '1') {
    const r0 = Date.now();
    await until(`${N * INST} tasks running`, async () => {
      await new Promise((r) => setTimeout(r, 1000));
      running = (await api('GET', '/v2/apps')).apps.reduce((n, a) => n + a.tasksRunning, 0);
      return running === N * INST;
    }, 600000);
    log(`${running} tasks running after ${Date.now() - r0} ms more`);
  }
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Performance.enable');
  const start = Date.now();
  await page.goto(`${BASE}/#/apps`);
  await page.waitForSelector('#apps tbody tr[data-app]', { timeout: 60000 });
  const firstRender = Date.now() - start;
  const nav = await page.evaluate(() => performance.now());
  const rows = (await page.$$('#apps tbody tr[data-app]')).length;
  const count = await page.textContent('main .toolbar [role=status]');
  // Filter and page while the list is live: each must answer fast.
  const f0 = Date.now();
  await page.fill('#app-filter', 'app-09');
  await until('the filter', async () => (await page.textContent('main .toolbar [role=status]')).startsWith('100 of'));
  const filterMs = Date.now() - f0;
  await page.fill('#app-filter', '');
  const p0 = Date.now();
  await page.click('.pager button:has-text("Next")');
  await until('page 2', async () => (await page.textContent('.pager span')).startsWith('Page 2'));
  const pageMs = Date.now() - p0;
  const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
  await shot('apps-1000');
  console.log(`LOAD apps=${N} instances=${INST} tasks_running=${running} first_render_ms=${firstRender} page_clock_ms=${Math.round(nav)} rows_rendered=${rows} ` +
    `(${count}) filter_ms=${filterMs} next_page_ms=${pageMs} js_heap_used_mb=${(m.JSHeapUsedSize / 1048576).toFixed(1)} ` +
    `js_heap_total_mb=${(m.JSHeapTotalSize / 1048576).toFixed(1)} dom_nodes=${m.Nodes}`);
  if (rows > 60) throw new Error(`rendered ${rows} rows: the list is not paged`);
  if (!count.startsWith(`${N} of ${N}`)) throw new Error(`count says ${count}`);
}

let rc = 0;
try {
  await (MODE === 'load' ? load() : MODE === 'auth' ? authFlow() : flows());
  const real = problems.filter((p) => !/Failed to load resource: the server responded with a status of (401|404|409|422)/.test(p));
  if (real.length) { rc = 1; console.error('[ui] problems:\n  ' + real.join('\n  ')); }
} catch (e) {
  rc = 1;
  console.error('[ui] FAILED:', e.stack || e.message);
  try { await page.screenshot({ path: join(SHOTS, `failure-${MODE}.png`) }); console.error('[ui] failure screenshot in', SHOTS); } catch { /* browser gone */ }
  if (problems.length) console.error('[ui] page problems:\n  ' + problems.join('\n  '));
}
await ctx.close();
rmSync(profile, { recursive: true, force: true });
process.exit(rc);
