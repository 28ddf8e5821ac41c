// The "Change routing" forms: shown only when console.actions is on. Rebuilt when the config
// in force changes, and never while the operator is typing in them.
import { h } from './dom.js';

const $ = (id) => document.getElementById(id);
let builtFor;
let editing = false;

async function post(path, body) {
  // The custom header is the CSRF guard: a cross-site page cannot send it without a preflight.
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gateway-console': '1' }, body: JSON.stringify(body) });
  const answer = await res.json().catch(() => ({ error: res.statusText }));
  return { ok: res.ok, ...answer };
}

function showResult(what, result) {
  const out = $('action-result');
  out.className = result.ok ? 'ok' : 'bad';
  out.replaceChildren(
    result.ok
      ? h('span', {}, `${what}: ${result.unchanged ? 'nothing to change' : `applied, config ${result.hash.slice(0, 12)}`}`)
      : h('span', {}, `${what}: refused: `, h('pre', { class: 'why' }, result.error)),
  );
}

function weightsForm(m, refresh) {
  const inputs = m.versions.map((v) =>
    h('label', {}, v.name, h('input', { type: 'number', min: 0, step: 1, name: v.name, value: Math.round((m.configuredSplit[v.name] ?? 0) * 100), dataset: { weight: v.name } })),
  );
  return h(
    'form',
    {
      class: 'action',
      dataset: { action: 'weights', model: m.name },
      onsubmit: async (ev) => {
        ev.preventDefault();
        const weights = Object.fromEntries(inputs.map((l) => l.querySelector('input')).map((i) => [i.name, Number(i.value)]));
        showResult(`${m.name} weights`, await post('/console/api/weights', { model: m.name, weights }));
        editing = false;
        await refresh();
      },
    },
    h('span', { class: 'what' }, `${m.name} weights`),
    inputs,
    h('button', { type: 'submit' }, 'Apply'),
  );
}

function aliasForm(m, refresh) {
  const aliases = Object.keys(m.aliases);
  if (aliases.length === 0) return undefined;
  const alias = h('select', { name: 'alias' }, aliases.map((a) => h('option', { value: a }, a)));
  const version = h('select', { name: 'version' }, m.versions.map((v) => h('option', { value: v.name }, v.name)));
  version.value = m.aliases[aliases[0]];
  alias.addEventListener('change', () => (version.value = m.aliases[alias.value]));
  return h(
    'form',
    {
      class: 'action',
      dataset: { action: 'alias', model: m.name },
      onsubmit: async (ev) => {
        ev.preventDefault();
        showResult(`${m.name}:${alias.value}`, await post('/console/api/alias', { model: m.name, alias: alias.value, version: version.value }));
        editing = false;
        await refresh();
      },
    },
    h('span', { class: 'what' }, `${m.name} alias`),
    alias,
    '→',
    version,
    h('button', { type: 'submit' }, 'Point'),
  );
}

export function renderActions(s, refresh) {
  const section = $('actions-section');
  section.hidden = !s.config.actions;
  if (!s.config.actions) return;
  const key = `${s.config.hash}:${s.config.canRollback}`;
  if (editing || builtFor === key) return;
  builtFor = key;
  const forms = s.models.flatMap((m) => [m.versions.length > 1 ? weightsForm(m, refresh) : undefined, aliasForm(m, refresh)]).filter(Boolean);
  const rollback = h(
    'form',
    {
      class: 'action',
      dataset: { action: 'rollback' },
      onsubmit: async (ev) => {
        ev.preventDefault();
        showResult('rollback', await post('/console/api/rollback', {}));
        await refresh();
      },
    },
    h('span', { class: 'what' }, 'config'),
    h('button', { type: 'submit', disabled: !s.config.canRollback, title: s.config.canRollback ? 'write the previous config back' : 'no previous config since start' }, 'Roll back to the previous config'),
  );
  const container = $('actions');
  container.replaceChildren(...forms, rollback);
  container.oninput = () => (editing = true);
}
