// Plain SVG charts: a sparkline for a series over the last minutes, and a split bar.
import { h, pct, svg } from './dom.js';

const W = 120;
const H = 28;

/**
 * A sparkline of `values` (null = no data at that point: a gap), scaled to its own maximum,
 * with the latest value printed beside it.
 */
export function sparkline(values, { label, format, className = '' }) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v));
  const max = Math.max(...finite, 0) || 1;
  const step = values.length > 1 ? W / (values.length - 1) : W;
  const segments = [];
  let current = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (current.length) segments.push(current);
      current = [];
      return;
    }
    current.push(`${(i * step).toFixed(1)},${(H - 2 - (v / max) * (H - 4)).toFixed(1)}`);
  });
  if (current.length) segments.push(current);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'spark', role: 'img', 'aria-label': label });
  chart.append(svg('line', { x1: 0, y1: H - 1, x2: W, y2: H - 1, class: 'axis' }));
  for (const points of segments) {
    if (points.length === 1) {
      const [x, y] = points[0].split(',');
      chart.append(svg('circle', { cx: x, cy: y, r: 1.5 }));
    } else {
      chart.append(svg('polyline', { points: points.join(' ') }));
    }
  }
  const last = [...values].reverse().find((v) => v !== null && Number.isFinite(v));
  return h('figure', { class: `chart ${className}` }, h('figcaption', {}, label), chart, h('span', { class: 'now' }, last === undefined ? '–' : format(last)));
}

const COLORS = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#14b8a6'];

/** A horizontal bar of shares (version → 0..1), one colour per version in `order`. */
export function splitBar(shares, order, { kind }) {
  const bar = h('div', { class: 'split-bar', dataset: { kind } });
  for (const [i, version] of order.entries()) {
    const share = shares[version] ?? 0;
    bar.append(
      h(
        'span',
        { class: 'share', style: { width: `${share * 100}%`, background: COLORS[i % COLORS.length] }, title: `${version}: ${pct(share)}`, dataset: { version, share: String(share) } },
        share >= 0.08 ? h('b', {}, `${version} ${pct(share)}`) : '',
      ),
    );
  }
  return bar;
}

export function legend(order) {
  return h('div', { class: 'legend' }, order.map((v, i) => h('span', {}, h('i', { style: { background: COLORS[i % COLORS.length] } }), v)));
}
