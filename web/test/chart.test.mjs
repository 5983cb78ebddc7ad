// Unit tests of the dashboard charts' pure helpers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { lastDays, linePath, lonePoints, niceMax, scale, series, summary } from '../src/lib/chart.js';

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
