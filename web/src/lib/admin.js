// Pure helpers of the admin dashboard (pages/admin.js), kept apart to be
// unit-tested without a DOM.

import { formatBytes } from './format.js';

const MB = 1000 * 1000;

/** How full a disk is, 0-100, from the node's used and total bytes. */
export function diskPercent(disk) {
  if (!disk || !(disk.total_bytes > 0)) return 0;
  return Math.min(100, Math.max(0, Math.round((disk.used_bytes / disk.total_bytes) * 100)));
}

/** The jobs an admin cares about first: running, then queued, then failed, then done; newest first within each. */
export function sortJobs(jobs) {
  const order = { running: 0, queued: 1, dead: 2, done: 3 };
  return [...jobs].sort((a, b) => ((order[a.state] ?? 9) - (order[b.state] ?? 9)) || ((b.seq || 0) - (a.seq || 0)));
}

/** Bytes to the MB figure shown in a quota input ('' for no limit). */
export function quotaToMB(bytes) {
  return bytes > 0 ? String(Math.round((bytes / MB) * 100) / 100) : '';
}

/** A quota input's MB figure to bytes (0 = no limit); NaN when not a number ≥ 0. */
export function mbToQuota(text) {
  const s = String(text ?? '').trim();
  if (s === '') return 0;
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0) return NaN;
  return Math.round(v * MB);
}

/** A duration in milliseconds, as "850 ms" or "1.25 s". */
export function formatMs(ms) {
  if (!Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 10) / 100} s`;
}

/** A share in percent (0-100), as "2.5%" (up to two decimals under 1%). */
export function formatPercent(p) {
  if (!Number.isFinite(p)) return '—';
  const digits = p !== 0 && Math.abs(p) < 1 ? 2 : 1;
  return `${Number(p.toFixed(digits))}%`;
}

/** Bytes per second, as "0.4 B/s", "12 B/s" or "3.1 MB/s". */
export function formatRate(bps) {
  if (!Number.isFinite(bps) || bps < 0) return '—';
  if (bps < 10) return `${Number(bps.toFixed(1))} B/s`;
  return `${formatBytes(Math.round(bps))}/s`;
}
