// Pure helpers of the dashboard's small SVG charts (components/chart.js),
// kept apart to be unit-tested without a DOM.

const DAY_MS = 24 * 60 * 60 * 1000;

/** The n UTC days up to and including end's, oldest first, as YYYY-MM-DD. */
export function lastDays(n, end = new Date()) {
  const last = Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate());
  return Array.from({ length: n }, (_, i) => new Date(last - (n - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

/**
 * One value per day from the API's by_day rows: value(row), or missing(day)
 * on a day without a row (0 for counts, null for averages: no data).
 */
export function series(byDay, days, value, missing = null) {
  const rows = new Map((byDay || []).map((r) => [r.day, r]));
  return days.map((d) => (rows.has(d) ? value(rows.get(d)) : missing));
}

/** A round upper bound for an axis: the smallest 1, 2, 2.5 or 5 × 10^k ≥ max (1 when max ≤ 0). */
export function niceMax(max) {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * p >= max * (1 - 1e-12)) return m * p;
  }
  return 10 * p;
}

/**
 * The geometry of n slots across width and values 0…max up height (SVG y
 * grows downwards): x(i) is the centre of slot i, y(v) the height of v,
 * slot the width of a slot.
 */
export function scale({ n, max, width, height }) {
  const slot = width / Math.max(n, 1);
  return {
    slot,
    x: (i) => slot * (i + 0.5),
    y: (v) => height - (Math.min(Math.max(v, 0), max) / max) * height,
  };
}

const r2 = (v) => Math.round(v * 100) / 100;

/** The path (`d`) of a line through the values, broken where a value is null. */
export function linePath(values, sc) {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v == null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${d ? ' ' : ''}${pen ? 'L' : 'M'}${r2(sc.x(i))} ${r2(sc.y(v))}`;
    pen = true;
  });
  return d;
}

/** Lone points (no neighbour with a value) would draw no line: they get a dot. */
export function lonePoints(values) {
  const has = (i) => values[i] != null && Number.isFinite(values[i]);
  return values.map((_, i) => i).filter((i) => has(i) && !has(i - 1) && !has(i + 1));
}

/** A sentence for screen readers: the range, the highest value and the latest one. */
export function summary(days, values, format) {
  const known = values.map((v, i) => [v, i]).filter(([v]) => v != null && Number.isFinite(v));
  const range = `${days[0]} to ${days[days.length - 1]}`;
  if (known.length === 0) return `No data from ${range}.`;
  const [maxV, maxI] = known.reduce((a, b) => (b[0] > a[0] ? b : a));
  const [lastV, lastI] = known[known.length - 1];
  return `${range}: highest ${format(maxV)} on ${days[maxI]}; latest ${format(lastV)} on ${days[lastI]}.`;
}

// ------------------------------------------------------- edge cache charts

/**
 * The n periods of ms milliseconds up to and including end's, oldest first:
 * their starts (ms since the epoch) and labels ("2026-11-26 09:15", UTC).
 */
export function lastPeriods(n, ms, end = new Date()) {
  const last = Math.floor(end.getTime() / ms) * ms;
  const starts = Array.from({ length: n }, (_, i) => last - (n - 1 - i) * ms);
  return { starts, labels: starts.map((t) => new Date(t).toISOString().slice(0, 16).replace('T', ' ')) };
}

const at = (a, i) => (a && Number.isFinite(a[i]) ? a[i] : 0);

/**
 * An edge's cache history (a status's edge_cache: a sample a step, oldest
 * first) summed into periods of ms: a Map from a period's start to
 * { hits, requests, bytes }. Hits are answers from the cache (memory, disk
 * or a stale copy), requests those plus misses, bytes the body bytes the
 * cache served. Periods start on multiples of ms, so several edges' maps
 * add up (mergePeriods).
 */
export function edgePeriods(hist, ms) {
  const out = new Map();
  if (!hist || !(hist.step_seconds > 0)) return out;
  const t0 = Date.parse(hist.start);
  if (!Number.isFinite(t0)) return out;
  const n = Math.max(0, ...['mem_hits', 'disk_hits', 'stale', 'misses', 'mem_bytes'].map((k) => (hist[k] || []).length));
  for (let i = 0; i < n; i++) {
    const p = Math.floor((t0 + i * hist.step_seconds * 1000) / ms) * ms;
    const hits = at(hist.mem_hits, i) + at(hist.disk_hits, i) + at(hist.stale, i);
    const sum = out.get(p) || { hits: 0, requests: 0, bytes: 0 };
    sum.hits += hits;
    sum.requests += hits + at(hist.misses, i);
    sum.bytes += at(hist.mem_bytes, i) + at(hist.disk_bytes, i) + at(hist.stale_bytes, i);
    out.set(p, sum);
  }
  return out;
}

/** Several edgePeriods maps added up period by period. */
export function mergePeriods(maps) {
  const out = new Map();
  for (const m of maps) {
    for (const [p, v] of m) {
      const sum = out.get(p) || { hits: 0, requests: 0, bytes: 0 };
      sum.hits += v.hits;
      sum.requests += v.requests;
      sum.bytes += v.bytes;
      out.set(p, sum);
    }
  }
  return out;
}

/**
 * Per period start: the hit ratio in percent (null: no requests, no data)
 * and the bytes per second served (0 for a period without data).
 */
export function edgeSeries(periods, starts, ms) {
  return {
    hitRatio: starts.map((p) => {
      const v = periods.get(p);
      return v && v.requests > 0 ? (v.hits / v.requests) * 100 : null;
    }),
    bytesPerSecond: starts.map((p) => (periods.get(p)?.bytes || 0) / (ms / 1000)),
  };
}
