// Unit tests of the channel page's URL helpers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { channelPath, channelVideosURL } from '../src/lib/api.js';

test('channelPath escapes the name', () => {
  assert.equal(channelPath('ana'), '/channel/ana');
  assert.equal(channelPath('a/b c'), '/channel/a%2Fb%20c');
});

test('channelVideosURL: owner, limit, and the cursor only when there is one', () => {
  assert.equal(channelVideosURL('ana'), '/api/v1/videos?owner=ana&limit=20');
  assert.equal(channelVideosURL('a&b', 'Zm9v-_', 5), '/api/v1/videos?owner=a%26b&limit=5&cursor=Zm9v-_');
});
