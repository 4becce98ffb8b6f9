// The app form: fields or a JSON editor. The master validates (422 details with JSON paths)
// and each error is shown next to its field; the console checks nothing itself.
import { h } from './dom.js';
import { ApiError } from './api.js';

const FIELDS = [
  ['id', 'ID', 'text', 'e.g. /prod/web'],
  ['cmd', 'Command', 'text', 'the shell command the task runs'],
  ['cpus', 'CPUs', 'number', ''],
  ['mem', 'Memory (MiB)', 'number', ''],
  ['disk', 'Disk (MiB)', 'number', ''],
  ['instances', 'Instances', 'number', ''],
  ['constraints', 'Constraints', 'textarea', 'one per line: field:OPERATOR[:value], e.g. hostname:UNIQUE'],
];

function parseConstraints(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.split(':'));
}

export function appForm(parent, initial, submit, cancel) {
  let mode = 'form';
  let def = initial ? { ...initial } : { id: '', cmd: '', cpus: 0.1, mem: 32, disk: 0, instances: 1 };
  const inputs = {}; const errs = {};
  const general = h('div', { class: 'errors', role: 'alert', id: 'form-errors' });
  const form = h('div', {}, FIELDS.map(([k, label, type, hint]) => {
    const id = `f-${k}`;
    errs[k] = h('div', { class: 'error', id: `${id}-err` });
    const v = k === 'constraints' ? (def.constraints || []).map((c) => c.join(':')).join('\n') : def[k] ?? '';
    inputs[k] = type === 'textarea' ? h('textarea', { id, rows: 3, 'aria-describedby': `${id}-hint ${id}-err` }, v)
      : h('input', { id, name: k, type, step: type === 'number' ? 'any' : null, value: v, 'aria-describedby': `${id}-hint ${id}-err`, readonly: k === 'id' && initial ? true : null });
    return h('div', { class: 'field', 'data-field': k }, h('label', { for: id }, label), inputs[k], h('div', { class: 'hint', id: `${id}-hint` }, hint), errs[k]);
  }));
  const json = h('textarea', { id: 'f-json', rows: 18, 'aria-label': 'App definition (JSON)', spellcheck: 'false' });
  const jsonBox = h('div', { hidden: true }, h('label', { for: 'f-json' }, 'App definition (JSON)'), json);
  function fromForm() {
    const d = { ...def };
    for (const [k, , type] of FIELDS) {
      const raw = inputs[k].value;
      if (k === 'constraints') { d.constraints = parseConstraints(raw); continue; }
      d[k] = type === 'number' ? (raw === '' ? undefined : Number(raw)) : raw;
    }
    return d;
  }
  function toForm(d) {
    for (const [k] of FIELDS) inputs[k].value = k === 'constraints' ? (d.constraints || []).map((c) => c.join(':')).join('\n') : d[k] ?? '';
  }
  const tabForm = h('button', { type: 'button', role: 'tab', 'aria-selected': 'true', onclick: () => setMode('form') }, 'Form');
  const tabJson = h('button', { type: 'button', role: 'tab', 'aria-selected': 'false', id: 'tab-json', onclick: () => setMode('json') }, 'JSON');
  function setMode(m) {
    if (m === mode) return;
    try {
      if (m === 'json') { def = fromForm(); json.value = JSON.stringify(def, null, 2); } else { def = JSON.parse(json.value); toForm(def); }
    } catch (e) { general.textContent = `The JSON does not parse: ${e.message}`; return; }
    mode = m; form.hidden = m !== 'form'; jsonBox.hidden = m !== 'json';
    tabForm.setAttribute('aria-selected', String(m === 'form')); tabJson.setAttribute('aria-selected', String(m === 'json'));
  }
  function clear() { general.replaceChildren(); for (const k in errs) { errs[k].textContent = ''; errs[k].parentElement.classList.remove('invalid'); inputs[k].removeAttribute('aria-invalid'); } }
  function show(e) {
    const details = e.body && Array.isArray(e.body.details) ? e.body.details : null;
    const rest = [];
    if (details) {
      for (const d of details) {
        const key = String(d.path || '').replace(/^\//, '').split('/')[0] || '';
        const text = (d.errors || []).join('; ');
        if (mode === 'form' && errs[key]) {
          errs[key].textContent = errs[key].textContent ? `${errs[key].textContent}; ${text}` : text;
          errs[key].parentElement.classList.add('invalid'); inputs[key].setAttribute('aria-invalid', 'true');
        } else rest.push(`${d.path || '/'}: ${text}`);
      }
    }
    general.replaceChildren(...[h('p', {}, e.body && e.body.message ? e.body.message : e.message), rest.length ? h('ul', {}, rest.map((r) => h('li', {}, r))) : null,
      e.body && typeof e.body.details === 'string' ? h('p', {}, e.body.details) : null].filter(Boolean));
  }
  const go = h('button', { type: 'submit', id: 'f-submit' }, initial ? 'Save' : 'Create');
  const f = h('form', { class: 'card', 'aria-label': initial ? 'Edit app' : 'Create app', onsubmit: async (ev) => {
    ev.preventDefault(); clear();
    let d;
    if (mode === 'json') { try { d = JSON.parse(json.value); } catch (e) { general.textContent = `The JSON does not parse: ${e.message}`; return; } } else d = fromForm();
    go.disabled = true;
    try { await submit(d); } catch (e) { if (e instanceof ApiError) show(e); else general.textContent = e.message; } finally { go.disabled = false; }
  } },
  h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Editor' }, tabForm, tabJson), general, form, jsonBox,
  h('div', { class: 'actions' }, go, cancel ? h('button', { type: 'button', class: 'secondary', onclick: cancel }, 'Cancel') : null));
  parent.append(f);
  return f;
}
