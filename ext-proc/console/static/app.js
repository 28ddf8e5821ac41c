// The console page: polls /console/api/state and renders it. Read-only unless the gateway
// config turns actions on (console.actions), then the "Change routing" forms appear.
import { legend, sparkline, splitBar } from './charts.js';
import { ago, h, pct, rate, seconds, time } from './dom.js';
import { renderActions } from './actions.js';

const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

function renderTotals(s) {
  const t = s.totals;
  $('totals').replaceChildren(
    stat('req/s', rate(t.requestsPerSecond)),
    stat('errors', pct(t.errorRatio)),
    stat('p50', seconds(t.p50Seconds)),
    stat('p99', seconds(t.p99Seconds)),
  );
}

const stat = (label, value) => h('div', { class: 'stat' }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label));

function renderConfig(s) {
  const c = s.config;
  const last = c.lastReload;
  $('config').replaceChildren(
    h(
      'dl',
      { class: 'config' },
      h('dt', {}, 'file'),
      h('dd', {}, h('code', {}, c.path)),
      h('dt', {}, 'hash'),
      h('dd', {}, h('code', { id: 'config-hash', title: c.hash }, c.hash.slice(0, 12))),
      h('dt', {}, 'loaded'),
      h('dd', {}, `${time(c.loadedAt)} (${ago(c.loadedAt, s.now)})`),
      h('dt', {}, 'last reload'),
      h(
        'dd',
        { id: 'last-reload', class: last?.result === 'failure' ? 'bad' : '' },
        last === undefined
          ? 'none since start'
          : last.result === 'success'
            ? `applied ${ago(last.at, s.now)} (${last.source})`
            : h('span', {}, `refused ${ago(last.at, s.now)} (${last.source})${last.restored ? ', file restored' : ''}: `, h('pre', { class: 'why' }, last.error)),
      ),
      h('dt', {}, 'Envoy'),
      h('dd', { class: s.envoy.error ? 'bad' : '' }, s.envoy.error ?? h('code', {}, s.envoy.adminUrl)),
    ),
  );
}

function endpoint(e) {
  return h('li', { class: `endpoint ${e.healthy ? 'up' : 'down'}`, title: e.health, dataset: { health: e.health } }, h('i', {}), e.address, e.healthy ? '' : h('span', { class: 'flag' }, e.health));
}

function errorClasses(stats) {
  const parts = ['4xx', '5xx', 'cancelled'].filter((c) => stats.byClass[c] > 0).map((c) => `${c} ${rate(stats.byClass[c])}/s`);
  return parts.length ? parts.join(' · ') : '–';
}

function versionRow(model, v) {
  const st = v.stats;
  const streams = model.protocol === 'openai';
  return h(
    'tr',
    { dataset: { version: v.name } },
    h('th', { scope: 'row' }, v.name, h('div', { class: 'cluster' }, v.cluster)),
    h('td', {}, h('ul', { class: 'endpoints' }, v.endpoints.map(endpoint))),
    h('td', { class: 'num' }, rate(st.requestsPerSecond)),
    h('td', { class: st.errorRatio > 0 ? 'num bad' : 'num' }, pct(st.errorRatio), h('div', { class: 'sub' }, errorClasses(st))),
    h('td', { class: 'num' }, seconds(st.p50Seconds), ' / ', seconds(st.p99Seconds)),
    streams ? h('td', { class: 'num' }, seconds(st.ttftP50Seconds), h('div', { class: 'sub' }, `${rate(st.tokensPerSecond)} tok/s`)) : h('td', { class: 'num' }, '–'),
    h(
      'td',
      { class: 'charts' },
      sparkline(v.charts.requestsPerSecond, { label: 'req/s', format: rate }),
      sparkline(v.charts.errorsPerSecond, { label: 'errors/s', format: rate, className: 'errors' }),
      sparkline(v.charts.p99Seconds, { label: 'p99', format: seconds }),
      streams ? sparkline(v.charts.ttftP50Seconds, { label: 'TTFT', format: seconds }) : undefined,
      streams ? sparkline(v.charts.tokensPerSecond, { label: 'tok/s', format: rate }) : undefined,
    ),
  );
}

function modelCard(m) {
  const order = m.versions.map((v) => v.name);
  const aliases = Object.entries(m.aliases);
  const routing = [
    m.shadow && h('span', { class: 'tag', dataset: { role: 'shadow' } }, `shadow → ${m.shadow.version} (${m.shadow.percent} %)`),
    m.fallback && h('span', { class: 'tag', dataset: { role: 'fallback' } }, `fallback → ${m.fallback}`),
    m.stickyKey && h('span', { class: 'tag' }, `sticky by ${m.stickyKey}`),
    m.experiment && h('span', { class: 'tag' }, `experiment ${m.experiment}`),
  ];
  return h(
    'article',
    { class: 'model', dataset: { model: m.name } },
    h('header', {}, h('h3', {}, m.name), h('span', { class: 'protocol' }, m.protocol), h('span', { class: 'default' }, `default ${m.defaultVersion}`)),
    aliases.length ? h('div', { class: 'aliases' }, aliases.map(([a, v]) => h('span', { class: 'alias', dataset: { alias: a, target: v } }, `${a} → ${v}`))) : undefined,
    h(
      'div',
      { class: 'split' },
      h('div', { class: 'split-row' }, h('span', { class: 'split-label' }, 'configured'), splitBar(m.configuredSplit, order, { kind: 'configured' })),
      h(
        'div',
        { class: 'split-row' },
        h('span', { class: 'split-label', title: `routed requests over the last ${m.observedSplit.windowSeconds} s` }, 'observed'),
        m.observedSplit.requests > 0 ? splitBar(m.observedSplit.shares, order, { kind: 'observed' }) : h('div', { class: 'split-bar empty', dataset: { kind: 'observed' } }, 'no routed requests yet'),
      ),
      h('div', { class: 'split-note' }, legend(order), `observed: ${Math.round(m.observedSplit.requests)} requests, last ${Math.round(m.observedSplit.windowSeconds / 60) || '<1'} min`),
      routing.some(Boolean) ? h('div', { class: 'routing' }, routing) : undefined,
    ),
    h(
      'table',
      { class: 'versions' },
      h('thead', {}, h('tr', {}, ['version', 'endpoints (Envoy)', 'req/s', 'errors', 'p50 / p99', 'TTFT', 'last minutes'].map((t) => h('th', {}, t)))),
      h('tbody', {}, m.versions.map((v) => versionRow(m, v))),
    ),
  );
}

function renderConsumers(s) {
  if (s.consumers.length === 0) return $('consumers').replaceChildren(h('p', { class: 'hint' }, 'no consumers configured or seen'));
  $('consumers').replaceChildren(
    h(
      'table',
      { class: 'consumers' },
      h('thead', {}, h('tr', {}, ['consumer', 'req/s', 'requests', 'rejections', 'tokens (last min)', 'limits'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        s.consumers.map((c) => {
          const rejections = Object.entries(c.rejections).filter(([, n]) => n > 0);
          const budget = c.tokenBudget;
          const perMinute = budget?.unit === 'minute' ? budget.amount : undefined;
          return h(
            'tr',
            { dataset: { consumer: c.id } },
            h('th', { scope: 'row' }, c.id === '' ? h('span', { class: 'hint', title: 'requests no auth plugin identified' }, '(no consumer)') : c.id),
            h('td', { class: 'num' }, rate(c.requestsPerSecond)),
            h('td', { class: 'num' }, Math.round(c.requests)),
            h('td', { class: rejections.length ? 'bad' : '' }, rejections.length ? rejections.map(([r, n]) => `${r} ${Math.round(n)}`).join(' · ') : '–'),
            h(
              'td',
              {},
              `${Math.round(c.tokensLastMinute)}${budget ? ` / ${budget.amount} per ${budget.unit}` : ''}`,
              perMinute ? h('div', { class: 'budget' }, h('span', { style: { width: `${Math.min(100, (c.tokensLastMinute / perMinute) * 100)}%` } })) : undefined,
            ),
            h('td', {}, c.requestLimit ? `${c.requestLimit.amount} req per ${c.requestLimit.unit}` : 'none'),
          );
        }),
      ),
    ),
  );
}

function renderErrors(s) {
  if (s.errors.length === 0) return $('errors').replaceChildren(h('p', { class: 'hint' }, 'none since the ext-proc started'));
  $('errors').replaceChildren(
    h(
      'table',
      { class: 'errors' },
      h('thead', {}, h('tr', {}, ['when', 'request id', 'model', 'consumer', 'status', 'code', 'answered by'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        s.errors.slice(0, 12).map((e) =>
          h(
            'tr',
            {},
            h('td', {}, time(e.at)),
            h('td', {}, h('code', {}, e.reqId ?? '–')),
            h('td', {}, e.model ? `${e.model}${e.version ? `@${e.version}` : ''}` : '–'),
            h('td', {}, e.consumer ?? '–'),
            h('td', { class: 'num' }, e.status ?? e.statusClass),
            h('td', {}, e.code ?? '–'),
            h('td', {}, e.answeredBy),
          ),
        ),
      ),
    ),
  );
}


async function refresh() {
  try {
    const res = await fetch('/console/api/state', { cache: 'no-store' });
    if (!res.ok) throw new Error(`${res.status} ${(await res.json().catch(() => ({}))).error ?? res.statusText}`);
    const s = await res.json();

    renderTotals(s);
    renderConfig(s);
    $('models').replaceChildren(...s.models.map(modelCard));
    renderConsumers(s);
    renderErrors(s);
    renderActions(s, refresh);
    $('live').textContent = `live · ${time(s.now)}`;
    $('live').className = 'live ok';
  } catch (err) {
    $('live').textContent = `disconnected: ${err.message}`;
    $('live').className = 'live bad';
  }
}

document.body.dataset.ready = 'false';
await refresh();
document.body.dataset.ready = 'true';
setInterval(refresh, POLL_MS);
