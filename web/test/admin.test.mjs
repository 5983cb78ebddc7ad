// Unit tests of the admin dashboard's pure helpers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { diskPercent, formatRate, mbToQuota, quotaToMB, sortJobs } from '../src/lib/admin.js';

test('diskPercent', () => {
  assert.equal(diskPercent({ used_bytes: 25, total_bytes: 100 }), 25);
  assert.equal(diskPercent({ used_bytes: 2, total_bytes: 3 }), 67);
  assert.equal(diskPercent({ used_bytes: 200, total_bytes: 100 }), 100);
  assert.equal(diskPercent({ used_bytes: 5, total_bytes: 0 }), 0);
  assert.equal(diskPercent(undefined), 0);
});

test('sortJobs: running, queued, failed, done; newest first in each', () => {
  const jobs = [
    { id: 'd1', state: 'done', seq: 1 },
    { id: 'x1', state: 'dead', seq: 2 },
    { id: 'q1', state: 'queued', seq: 3 },
    { id: 'r1', state: 'running', seq: 4 },
    { id: 'q2', state: 'queued', seq: 5 },
  ];
  assert.deepEqual(sortJobs(jobs).map((j) => j.id), ['r1', 'q2', 'q1', 'x1', 'd1']);
  assert.equal(jobs[0].id, 'd1', 'the input is not sorted in place');
});

test('quota inputs are megabytes; empty is no limit', () => {
  assert.equal(quotaToMB(0), '');
  assert.equal(quotaToMB(5_000_000_000), '5000');
  assert.equal(quotaToMB(1_234_567), '1.23');
  assert.equal(mbToQuota(''), 0);
  assert.equal(mbToQuota('  '), 0);
  assert.equal(mbToQuota('5000'), 5_000_000_000);
  assert.equal(mbToQuota('0.5'), 500_000);
  assert.ok(Number.isNaN(mbToQuota('-1')));
  assert.ok(Number.isNaN(mbToQuota('lots')));
});

test('formatMs and formatPercent', async () => {
  const { formatMs, formatPercent } = await import('../src/lib/admin.js');
  assert.equal(formatMs(850.4), '850 ms');
  assert.equal(formatMs(1250), '1.25 s');
  assert.equal(formatMs(1000), '1 s');
  assert.equal(formatMs(NaN), '—');
  assert.equal(formatPercent(2.54), '2.5%');
  assert.equal(formatPercent(0.934), '0.93%');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(100), '100%');
});

test('formatRate: bytes per second, small rates with a decimal', () => {
  assert.equal(formatRate(0), '0 B/s');
  assert.equal(formatRate(0.44), '0.4 B/s');
  assert.equal(formatRate(12.4), '12 B/s');
  assert.equal(formatRate(3_100_000), '3.1 MB/s');
  assert.equal(formatRate(NaN), '—');
});
