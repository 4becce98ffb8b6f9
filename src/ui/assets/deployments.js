// Deployments: steps and progress, cancel (stop tracking) and roll back.
import { h, bar, toast, dialog } from './dom.js';
import { api, store } from './api.js';

export function deploymentsPage(main) {
  const list = h('div', { id: 'deployments' });
  main.append(h('h1', {}, 'Deployments'), list);
  function draw(deps) {
    list.replaceChildren(...((deps || []).length ? deps.map((d) => h('div', { class: 'card', 'data-deployment': d.id },
      h('h2', {}, (d.affectedApps || []).map((a, i) => [i ? ', ' : '', h('a', { href: `#/app${a}` }, a)]), h('span', { class: 'muted' }, ` · ${d.id}`)),
      bar([{ cls: 'ok', value: Math.max(0, d.currentStep - 1) }, { cls: 'stage', value: 1 }], d.totalSteps, `step ${d.currentStep} of ${d.totalSteps} · started ${d.version}`),
      h('ol', {}, (d.steps || []).map((s, i) => h('li', { 'aria-current': i + 1 === d.currentStep ? 'step' : null },
        (s.actions || []).map((a) => `${a.action} ${a.app}`).join(', '), i + 1 < d.currentStep ? ' ✓' : i + 1 === d.currentStep ? ' (running)' : ''))),
      h('div', { class: 'actions' },
        h('button', { class: 'danger', onclick: () => confirm(d, false) }, 'Roll back'),
        h('button', { class: 'secondary', onclick: () => confirm(d, true) }, 'Cancel (stop tracking)'))))
      : [h('p', {}, 'No deployment in progress.')]));
  }
  async function confirm(d, force) {
    const ok = await dialog(force ? 'Stop tracking this deployment?' : 'Roll back this deployment?',
      h('p', {}, force ? 'The apps keep whatever they have now; nothing is rolled back.' : 'The apps return to their previous version (a new app is removed).'),
      force ? 'Stop tracking' : 'Roll back', !force);
    if (!ok) return;
    try { await api('DELETE', `/v2/deployments/${encodeURIComponent(d.id)}${force ? '?force=true' : ''}`); toast(force ? 'Stopped tracking' : 'Rolling back', true); store.deployments.refresh(); store.apps.refresh(); } catch (e) { toast(e.message); }
  }
  return store.deployments.subscribe(draw);
}
