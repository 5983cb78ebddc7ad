// Unit tests of the admin log view's helpers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { entryFields, logLevels } from '../src/lib/logs.js';

test('entryFields: sorted key=value, strings bare, others as JSON', () => {
  assert.equal(entryFields(undefined), '');
  assert.equal(entryFields({}), '');
  assert.equal(entryFields({ video_id: 'v1', bytes: 42, error: 'refused', nested: { a: 1 } }),
    'bytes=42 error=refused nested={"a":1} video_id=v1');
  const long = entryFields({ k: 'x'.repeat(1000) });
  assert.equal(long.length, 400);
  assert.ok(long.endsWith('…'));
});

test('logLevels are the server level names', () => {
  assert.deepEqual(logLevels.map(([v]) => v), ['info', 'warn', 'error']);
});
