// Unit tests of the dashboard charts' pure helpers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { edgePeriods, edgeSeries, lastDays, lastPeriods, linePath, lonePoints, mergePeriods, niceMax, scale, series, summary } from '../src/lib/chart.js';

test('lastDays: UTC days up to today, oldest first, across a month end', () => {
  assert.deepEqual(lastDays(3, new Date('2026-03-01T23:30:00Z')), ['2026-02-27', '2026-02-28', '2026-03-01']);
  assert.deepEqual(lastDays(1, new Date('2026-01-01T00:00:00Z')), ['2026-01-01']);
  assert.equal(lastDays(30).length, 30);
});

test('series: a value per day, the missing value where there is no row', () => {
  const byDay = [{ day: '2026-02-28', sessions: 4 }, { day: '2026-01-01', sessions: 9 }];
  const days = ['2026-02-27', '2026-02-28', '2026-03-01'];
  assert.deepEqual(series(byDay, days, (r) => r.sessions, 0), [0, 4, 0]);
  assert.deepEqual(series(byDay, days, (r) => r.sessions), [null, 4, null]);
  assert.deepEqual(series(undefined, days, (r) => r.sessions), [null, null, null]);
});

test('niceMax', () => {
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(-3), 1);
  assert.equal(niceMax(NaN), 1);
  assert.equal(niceMax(1), 1);
  assert.equal(niceMax(7), 10);
  assert.equal(niceMax(42), 50);
  assert.equal(niceMax(180), 200);
  assert.equal(niceMax(2100), 2500);
  assert.equal(niceMax(0.03), 0.05);
  assert.equal(niceMax(100), 100);
});

test('scale: slot centres across, values up (clamped)', () => {
  const sc = scale({ n: 4, max: 10, width: 400, height: 100 });
  assert.equal(sc.slot, 100);
  assert.equal(sc.x(0), 50);
  assert.equal(sc.x(3), 350);
  assert.equal(sc.y(0), 100);
  assert.equal(sc.y(10), 0);
  assert.equal(sc.y(2.5), 75);
  assert.equal(sc.y(20), 0);
  assert.equal(sc.y(-1), 100);
});

test('linePath breaks at gaps; lonePoints finds points without a neighbour', () => {
  const sc = scale({ n: 5, max: 10, width: 500, height: 100 });
  const values = [10, 5, null, 0, null];
  assert.equal(linePath(values, sc), 'M50 0 L150 50 M350 100');
  assert.equal(linePath([null, null], sc), '');
  assert.deepEqual(lonePoints(values), [3]);
  assert.deepEqual(lonePoints([1, 2, 3]), []);
});

test('summary: the range, the highest and the latest value', () => {
  const days = ['2026-02-27', '2026-02-28', '2026-03-01'];
  const f = (v) => `${v} ms`;
  assert.equal(summary(days, [300, 900, null], f),
    '2026-02-27 to 2026-03-01: highest 900 ms on 2026-02-28; latest 900 ms on 2026-02-28.');
  assert.equal(summary(days, [null, null, null], f), 'No data from 2026-02-27 to 2026-03-01.');
});

test('lastPeriods: aligned UTC periods up to the current one, labelled', () => {
  const { starts, labels } = lastPeriods(3, 15 * 60e3, new Date('2026-11-26T10:07:00Z'));
  assert.deepEqual(labels, ['2026-11-26 09:30', '2026-11-26 09:45', '2026-11-26 10:00']);
  assert.equal(starts[2], Date.parse('2026-11-26T10:00:00Z'));
  assert.equal(starts[1] - starts[0], 15 * 60e3);
});

test('edgePeriods, mergePeriods, edgeSeries: hit ratio and bytes/s per period, per edge and summed', () => {
  const ms = 2 * 60e3; // two one-minute samples a period
  const a = {
    start: '2026-11-26T10:01:00Z', step_seconds: 60,
    mem_hits: [3, 1, 0], disk_hits: [1, 0, 0], stale: [0, 1, 0], misses: [0, 2, 0],
    mem_bytes: [300, 100, 0], disk_bytes: [100, 0, 0], stale_bytes: [0, 50, 0], upstream_bytes: [0, 999, 0],
  };
  const b = { start: '2026-11-26T10:02:00Z', step_seconds: 60, mem_hits: [0, 0], disk_hits: [0, 0], stale: [0, 0], misses: [4, 0], mem_bytes: [0, 0] };
  const pa = edgePeriods(a, ms);
  const t = (s) => Date.parse(`2026-11-26T${s}:00Z`);
  // 10:01 lies in the 10:00 period, 10:02 and 10:03 in the 10:02 one.
  assert.deepEqual([...pa], [[t('10:00'), { hits: 4, requests: 4, bytes: 400 }], [t('10:02'), { hits: 2, requests: 4, bytes: 150 }]]);

  const starts = [t('09:58'), t('10:00'), t('10:02')];
  const one = edgeSeries(pa, starts, ms);
  assert.deepEqual(one.hitRatio, [null, 100, 50]);
  assert.deepEqual(one.bytesPerSecond, [0, 400 / 120, 150 / 120]);

  const all = edgeSeries(mergePeriods([pa, edgePeriods(b, ms)]), starts, ms);
  assert.deepEqual(all.hitRatio, [null, 100, 25]);

  assert.equal(edgePeriods(null, ms).size, 0);
  assert.equal(edgePeriods({ start: 'nonsense', step_seconds: 60, mem_hits: [1] }, ms).size, 0);
});
