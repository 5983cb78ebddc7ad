// Unit tests for the upload queue's pure helpers (src/lib/upload-queue.js).
import test from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ACTIVE, addSample, isActive, isSent, normalizeTags, queueSummary, rateText, toStart } from '../src/lib/upload-queue.js';

const items = (...states) => states.map((state, i) => ({ id: i, state }));

test('toStart fills the free slots in queue order', () => {
  assert.equal(MAX_ACTIVE, 2);
  assert.deepEqual(toStart(items('queued', 'queued', 'queued')).map((i) => i.id), [0, 1]);
  assert.deepEqual(toStart(items('uploading', 'queued', 'queued')).map((i) => i.id), [1]);
  assert.deepEqual(toStart(items('starting', 'uploading', 'queued')), []);
  // Paused and failed uploads give up their slot and are not restarted.
  assert.deepEqual(toStart(items('paused', 'error', 'uploading', 'queued', 'queued')).map((i) => i.id), [3]);
  assert.deepEqual(toStart(items('complete', 'ready', 'queued')).map((i) => i.id), [2]);
  assert.deepEqual(toStart(items('checking', 'queued'), 1).map((i) => i.id), [1]);
  assert.deepEqual(toStart([]), []);
});

test('isActive, isSent', () => {
  assert.ok(isActive('starting') && isActive('uploading'));
  assert.ok(!isActive('queued') && !isActive('paused') && !isActive('complete'));
  assert.ok(isSent('complete') && isSent('ready') && isSent('failed'));
  assert.ok(!isSent('error') && !isSent('uploading'));
});

test('rateText waits for a second of progress, then gives speed and time left', () => {
  const s = [];
  addSample(s, 0, 0);
  assert.equal(rateText(s, 0, 1e6, 0), '');
  addSample(s, 500, 100e3);
  assert.equal(rateText(s, 100e3, 1e6, 500), ''); // under a second of data
  addSample(s, 2000, 400e3);
  assert.equal(rateText(s, 400e3, 1e6, 2000), ' · 200 kB/s · less than a minute left');
  assert.equal(rateText(s, 400e3, 100e6, 2000), ' · 200 kB/s · about 8 minutes left');
  assert.equal(rateText([], 1, 2, 5000), '');
});

test('addSample keeps the last few seconds (and at least two samples)', () => {
  const s = [];
  for (let t = 0; t <= 10000; t += 1000) addSample(s, t, t);
  assert.equal(s[0][0], 5000);
  const two = [];
  addSample(two, 0, 0);
  addSample(two, 60000, 5);
  assert.equal(two.length, 2);
});

test('queueSummary counts by state', () => {
  assert.equal(queueSummary(items('uploading', 'queued', 'ready')), '3 videos · 1 uploading · 1 queued · 1 ready');
  assert.equal(queueSummary(items('paused', 'complete', 'error', 'failed')), '4 videos · 1 paused · 1 processing · 1 stopped · 1 failed');
  assert.equal(queueSummary(items('checking')), '1 video');
});

test('normalizeTags', () => {
  assert.equal(normalizeTags(' music, live ,, tutorial '), 'music,live,tutorial');
  assert.equal(normalizeTags(''), '');
});
