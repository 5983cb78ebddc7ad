// Unit tests for the pure helpers: `npm test` (node's built-in test runner).
import test from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, timeAgo, formatBytes, percent, stripExtension, plural } from '../src/lib/format.js';
import { messageFromBody } from '../src/lib/api.js';

test('formatDuration', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(10.0), '0:10');
  assert.equal(formatDuration(59.6), '1:00');
  assert.equal(formatDuration(75), '1:15');
  assert.equal(formatDuration(3600), '1:00:00');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(-1), '');
  assert.equal(formatDuration(undefined), '');
  assert.equal(formatDuration(Number.NaN), '');
});

test('timeAgo', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  assert.equal(timeAgo('2026-11-25T11:59:50Z', now), 'just now');
  assert.equal(timeAgo('2026-11-25T11:57:00Z', now), '3 minutes ago');
  assert.equal(timeAgo('2026-11-25T11:00:00Z', now), '1 hour ago');
  assert.equal(timeAgo('2026-11-24T11:00:00Z', now), 'yesterday');
  assert.equal(timeAgo('2026-11-11T12:00:00Z', now), '2 weeks ago');
  assert.equal(timeAgo('2025-11-01T12:00:00Z', now), 'last year');
  assert.equal(timeAgo('not a date', now), '');
});

test('formatBytes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1500), '1.5 kB');
  assert.equal(formatBytes(123456789), '123 MB');
  assert.equal(formatBytes(8 * 1024 * 1024), '8.4 MB');
  assert.equal(formatBytes(2.5e12), '2.5 TB');
});

test('percent, stripExtension, plural', () => {
  assert.equal(percent(42.9), 42);
  assert.equal(percent(-3), 0);
  assert.equal(percent(140), 100);
  assert.equal(percent(undefined), 0);
  assert.equal(stripExtension('clip.final.mp4'), 'clip.final');
  assert.equal(stripExtension('.hidden'), '.hidden');
  assert.equal(stripExtension('noext'), 'noext');
  assert.equal(plural(1, 'result'), '1 result');
  assert.equal(plural(1234, 'result'), '1,234 results');
});

test('messageFromBody', () => {
  assert.equal(messageFromBody('{"error":{"code":"too_large","message":"file exceeds 2 GiB"}}'), 'file exceeds 2 GiB');
  assert.equal(messageFromBody('{"error":{"code":"not_found"}}'), 'not_found');
  assert.equal(messageFromBody('plain text reason'), 'plain text reason');
  assert.equal(messageFromBody('<html>error page</html>'), '');
  assert.equal(messageFromBody(''), '');
});
