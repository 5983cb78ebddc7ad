// Small inline-SVG charts for the admin dashboard: bars or a line over
// days, no library. Each is a <figure> whose SVG is an image with a
// <title> and a <desc> (the range, the highest and the latest value), and
// a visually hidden table with every day's value for screen readers.
import { h } from '../lib/dom.js';
import { linePath, lonePoints, niceMax, scale, summary } from '../lib/chart.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 120;

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

let seq = 0;

/**
 * chart({ title, kind: 'bar' | 'line', days, values, format, testid, heading, attrs })
 * values has one number (or null: no data) per day; format turns one into
 * text ("1.2 s"). days may be other periods' labels, with heading the
 * table's name for them (default "Day (UTC)"); attrs are more attributes
 * of the <figure>.
 */
export function chart({ title, kind, days, values, format, testid, heading = 'Day (UTC)', attrs = null }) {
  const id = `chart-${++seq}`;
  const known = values.filter((v) => v != null && Number.isFinite(v));
  const max = niceMax(Math.max(0, ...known));
  const sc = scale({ n: days.length, max, width: W, height: H });
  const marks = [];
  if (kind === 'bar') {
    const bw = Math.max(1, sc.slot * 0.7);
    values.forEach((v, i) => {
      if (!(v > 0)) return;
      const y = sc.y(v);
      marks.push(s('rect', { class: 'chart-bar', x: sc.x(i) - bw / 2, y, width: bw, height: H - y }));
    });
  } else {
    const d = linePath(values, sc);
    if (d) marks.push(s('path', { class: 'chart-line', d, 'vector-effect': 'non-scaling-stroke' }));
    for (const i of lonePoints(values)) {
      // A zero-length stroke with round caps: a dot that stays round
      // although the plot stretches (preserveAspectRatio none).
      const [x, y] = [sc.x(i), sc.y(values[i])];
      marks.push(s('path', { class: 'chart-dot', d: `M${x} ${y} L${x} ${y}`, 'vector-effect': 'non-scaling-stroke' }));
    }
  }
  const svg = s('svg', {
    class: 'chart-svg', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none',
    role: 'img', 'aria-labelledby': `${id}-t ${id}-d`, focusable: 'false',
  },
  s('title', { id: `${id}-t` }, title),
  s('desc', { id: `${id}-d` }, summary(days, values, format)),
  s('line', { class: 'chart-grid', x1: 0, y1: 0.5, x2: W, y2: 0.5, 'vector-effect': 'non-scaling-stroke' }),
  s('line', { class: 'chart-axis', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, 'vector-effect': 'non-scaling-stroke' }),
  ...marks);
  // The class is on a wrapper: a table keeps its content's width whatever
  // width it is given, and would widen the page.
  const table = h('div', { class: 'visually-hidden' }, h('table', null,
    h('caption', null, title),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, heading), h('th', { scope: 'col' }, title))),
    h('tbody', null, days.map((d, i) => h('tr', null,
      h('th', { scope: 'row' }, d),
      h('td', null, values[i] == null ? 'no data' : format(values[i])))))));
  return h('figure', { ...attrs, class: 'chart', 'data-testid': testid, 'data-points': String(known.length) },
    h('figcaption', { class: 'chart-title' }, title),
    h('div', { class: 'chart-plot' },
      h('span', { class: 'chart-max', 'aria-hidden': 'true' }, format(max)),
      svg),
    h('div', { class: 'chart-days', 'aria-hidden': 'true' },
      h('span', null, days[0]), h('span', null, days[days.length - 1])),
    table);
}
