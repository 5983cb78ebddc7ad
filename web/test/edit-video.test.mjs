// Unit tests for the video edit form's pure helpers (src/lib/edit-video.js).
import test from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS, editPatch, fieldOfMessage, parseTags, tagsText, validateEdit } from '../src/lib/edit-video.js';

test('parseTags follows the server: trim, collapse spaces, drop empties and duplicates', () => {
  assert.deepEqual(parseTags('Music,  live  show ,, music, LIVE SHOW, x'), ['Music', 'live show', 'x']);
  assert.deepEqual(parseTags(''), []);
  assert.deepEqual(parseTags(undefined), []);
  assert.equal(tagsText(['a', 'b c']), 'a, b c');
  assert.equal(tagsText(null), '');
});

test('validateEdit checks the limits', () => {
  assert.deepEqual(validateEdit({ title: 'A title', description: '', tags: 'a, b' }), {});
  assert.match(validateEdit({ title: '   ' }).title, /title/);
  assert.match(validateEdit({ title: 'x'.repeat(LIMITS.title + 1) }).title, /at most 200/);
  // Characters, not bytes or UTF-16 units.
  assert.deepEqual(validateEdit({ title: '😀'.repeat(LIMITS.title) }), {});
  assert.match(validateEdit({ title: 't', description: 'd'.repeat(5001) }).description, /at most 5000/);
  assert.match(validateEdit({ title: 't', tags: 'y'.repeat(51) }).tags, /longer than 50/);
  const many = Array.from({ length: 31 }, (_, i) => `t${i}`).join(',');
  assert.match(validateEdit({ title: 't', tags: many }).tags, /31 tags given; at most 30/);
});

test('editPatch sends only what changed', () => {
  const v = { title: 'Old', description: 'Desc', tags: ['a', 'b'] };
  assert.equal(editPatch(v, { title: ' Old ', description: 'Desc', tags: 'a, b' }), null);
  assert.deepEqual(editPatch(v, { title: 'New', description: 'Desc', tags: 'a,b' }), { title: 'New' });
  assert.deepEqual(editPatch(v, { title: 'Old', description: '', tags: 'b, a' }), { description: '', tags: ['b', 'a'] });
  assert.deepEqual(editPatch({ title: 'T' }, { title: 'T', description: 'x', tags: '' }), { description: 'x' });
});

test('fieldOfMessage finds the field a server message is about', () => {
  assert.equal(fieldOfMessage('the title must have 1 to 200 characters'), 'title');
  assert.equal(fieldOfMessage('the description must have at most 5000 characters'), 'description');
  assert.equal(fieldOfMessage('the tag "x"… is longer than 50 characters'), 'tags');
  assert.equal(fieldOfMessage('31 tags given; at most 30 are allowed'), 'tags');
  assert.equal(fieldOfMessage('visibility must be public, unlisted or private'), '');
  assert.equal(fieldOfMessage(undefined), '');
});
