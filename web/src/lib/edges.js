// Pure helpers of the admin dashboard's edge registry (components/
// edges-panel.js), kept apart to be unit-tested without a DOM.

import { formatRate } from './admin.js';

/** The coverage blocks of an edge, as text: "10.0.0.0/8, 192.0.2.0/24", or "None". */
export function formatCoverage(coverage) {
  const blocks = (Array.isArray(coverage) ? coverage : []).filter((c) => typeof c === 'string' && c);
  return blocks.length ? blocks.join(', ') : 'None';
}

/**
 * An edge's health from its node's status: 'healthy', 'unhealthy'
 * (the node says so, or it did not answer) or 'unknown' (no status for
 * it: the node is not a member, or the view has no nodes).
 */
export function edgeHealth(status) {
  if (!status) return 'unknown';
  return status.healthy && status.state !== 'unreachable' ? 'healthy' : 'unhealthy';
}

export const HEALTH_LABEL = { healthy: 'Healthy', unhealthy: 'Unhealthy', unknown: 'Unknown' };

/** Requests per second, as "0 req/s", "0.4 req/s", "12 req/s" or "1,250 req/s". */
export function formatRequestRate(rps) {
  if (!Number.isFinite(rps) || rps < 0) return '—';
  if (rps < 10) return `${Number(rps.toFixed(1))} req/s`;
  return `${Math.round(rps).toLocaleString('en')} req/s`;
}

/** An edge's load (its status's edge_load), as { requests, bytes } texts; "—" when not reported. */
export function formatLoad(load) {
  if (!load) return { requests: '—', bytes: '—' };
  return { requests: formatRequestRate(load.requests_per_sec ?? 0), bytes: formatRate(load.bytes_per_sec ?? 0) };
}

/**
 * The rows of the edge table from GET /api/v1/admin/cluster's answer:
 * one per registered edge, sorted by ID, joined with its node's status
 * (the edge's ID is its node's).
 */
export function edgeRows(view) {
  const byID = new Map((view?.nodes || []).map((n) => [n.id, n]));
  return [...(view?.edges || [])]
    .sort((a, b) => String(a.id).localeCompare(String(b.id)))
    .map((e) => {
      const status = byID.get(e.id);
      const health = edgeHealth(status);
      return {
        id: e.id,
        url: e.public_url || '',
        region: e.region || '—',
        coverage: formatCoverage(e.coverage),
        health,
        healthLabel: HEALTH_LABEL[health],
        problem: status?.problem || '',
        load: formatLoad(status?.edge_load),
      };
    });
}

/** The line above the table: "2 edges, 1 healthy". */
export function edgeSummary(rows) {
  const healthy = rows.filter((r) => r.health === 'healthy').length;
  return `${rows.length} ${rows.length === 1 ? 'edge' : 'edges'}, ${healthy} healthy`;
}

/** Whether a public URL is safe to link (http or https only). */
export function linkable(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
