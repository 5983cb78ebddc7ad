// The admin dashboard's edge registry: every registered edge with its
// public URL, region and coverage (the replicated registry), and its
// health and load from its node's status. It shows the same
// GET /api/v1/admin/cluster answer as the nodes panel, so it refreshes
// with the dashboard's polling and asks for nothing itself.
import { h } from '../lib/dom.js';
import { edgeRows, edgeSummary, linkable } from '../lib/edges.js';

export const EMPTY_TEXT = 'No edges registered: every viewer is served by the origins.';

const COLUMNS = ['Edge', 'Public URL', 'Region', 'Coverage', 'Health', 'Requests', 'Bandwidth'];

function cell(label, ...children) {
  // data-label names the cell where the phone layout has no header row.
  return h('td', { 'data-label': label }, ...children);
}

function row(r) {
  const pill = r.health === 'healthy' ? 'pill pill-ok' : r.health === 'unhealthy' ? 'pill pill-danger' : 'pill';
  return h('tr', { 'data-testid': 'edge', 'data-id': r.id, 'data-health': r.health },
    h('th', { scope: 'row', class: 'edge-id', 'data-label': 'Edge' }, r.id),
    cell('Public URL', r.url && linkable(r.url)
      ? h('a', { href: r.url, class: 'edge-url', 'data-testid': 'edge-url', rel: 'noopener noreferrer' }, r.url)
      : h('span', { class: 'edge-url', 'data-testid': 'edge-url' }, r.url || '—')),
    cell('Region', h('span', { 'data-testid': 'edge-region' }, r.region)),
    cell('Coverage', h('span', { class: 'edge-coverage', 'data-testid': 'edge-coverage' }, r.coverage)),
    cell('Health', h('span', null,
      h('span', { class: pill, 'data-testid': 'edge-health' }, r.healthLabel),
      r.problem ? h('span', { class: 'error-text edge-problem' }, r.problem) : null)),
    cell('Requests', h('span', { class: 'edge-load', 'data-testid': 'edge-requests' }, r.load.requests)),
    cell('Bandwidth', h('span', { class: 'edge-load', 'data-testid': 'edge-bytes' }, r.load.bytes)));
}

/**
 * edgesPanel(ctx, { panel }) → { el, show(view) }: panel is the
 * dashboard's section frame; show(view) draws a cluster view (the nodes
 * panel calls it with each answer it gets).
 */
export function edgesPanel(ctx, { panel }) {
  const summary = h('p', { class: 'muted', 'data-testid': 'edges-summary' }, 'Loading the edges…');
  const body = h('tbody');
  const table = h('table', { class: 'edge-table', 'data-testid': 'edges-table', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Registered edges, with their health and load'),
    h('thead', null, h('tr', null, ...COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
    body);
  const empty = h('p', { class: 'edge-empty', 'data-testid': 'edges-empty', hidden: true }, EMPTY_TEXT);
  const el = panel('edges-title', 'Edges',
    'The edges in the registry: where viewers reach them and which client networks (CIDR blocks) each covers; health and load (requests and bytes per second lately) come from each edge node.',
    summary, empty, h('div', { class: 'edge-table-wrap' }, table));

  function show(view) {
    const rows = edgeRows(view);
    summary.textContent = rows.length ? edgeSummary(rows) : '';
    summary.hidden = !rows.length;
    empty.hidden = rows.length > 0;
    table.hidden = !rows.length;
    // Keep keyboard focus on an edge's link across the refresh.
    const focused = body.contains(document.activeElement) ? document.activeElement.closest('[data-id]')?.dataset.id : null;
    body.replaceChildren(...rows.map(row));
    if (focused) body.querySelector(`[data-id="${CSS.escape(focused)}"] a`)?.focus();
  }
  return { el, show };
}
