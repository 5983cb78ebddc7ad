// Unit tests for the search page's state helpers (lib/search-state.js).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  apiParams, decodeEntities, formatViews, hasFilters, markedRuns, readState, statePath, toggled, withChange,
} from '../src/lib/search-state.js';

const read = (qs) => readState(new URLSearchParams(qs));

test('readState keeps known values and drops the rest', () => {
  const s = read('q=%20alpine%20&sort=views&duration=short&resolution=720&uploaded=week&language=fr&tag=hd,vertical&tag=hd&keyword=lake&offset=40');
  assert.deepEqual(s, {
    q: 'alpine', sort: 'views', duration: 'short', resolution: '720', uploaded: 'week',
    language: 'fr', tags: ['hd', 'vertical'], keywords: ['lake'], offset: 40,
  });
  const bad = read('sort=random&duration=forever&resolution=480&uploaded=decade&offset=-5&toString=1');
  assert.equal(bad.sort, '');
  assert.equal(bad.duration, '');
  assert.equal(bad.resolution, '');
  assert.equal(bad.uploaded, '');
  assert.equal(bad.offset, 0);
  assert.equal(read('duration=toString').duration, '', 'inherited names are not values');
  assert.equal(hasFilters(read('q=x&sort=newest')), false);
  assert.equal(hasFilters(read('tag=hd')), true);
});

test('statePath round-trips through readState and leaves defaults out', () => {
  for (const qs of ['q=alpine', 'q=a+b&tag=hd&tag=vertical&sort=newest', 'tag=x&duration=long&resolution=2160&uploaded=day&offset=20']) {
    const s = read(qs);
    assert.deepEqual(read(statePath(s).split('?')[1] || ''), s);
  }
  assert.equal(statePath(read('q=cats&sort=relevance&offset=0')), '/search?q=cats');
  assert.equal(statePath(read('')), '/search');
});

test('apiParams turns the state into the API parameters', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  const p = apiParams(read('q=alpine&duration=medium&resolution=1080&uploaded=day&tag=hd&tag=vertical&sort=newest&offset=20'), now);
  assert.equal(p.get('q'), 'alpine');
  assert.equal(p.get('min_duration'), '240');
  assert.equal(p.get('max_duration'), '1199.999');
  assert.equal(p.get('resolution'), '1080');
  assert.equal(p.get('from'), '2026-11-25T12:00:00.000Z');
  assert.deepEqual(p.getAll('tag'), ['hd', 'vertical']);
  assert.equal(p.get('sort'), 'newest');
  assert.equal(p.get('limit'), '20');
  assert.equal(p.get('offset'), '20');
  const short = apiParams(read('q=x&duration=short'), now);
  assert.equal(short.get('min_duration'), null);
  assert.equal(short.get('max_duration'), '239.999');
  assert.equal(apiParams(read('q=x&duration=long')).get('max_duration'), null);
});

test('withChange goes back to the first page unless the page changes', () => {
  const s = read('q=x&offset=40&tag=a');
  assert.equal(withChange(s, { sort: 'views' }).offset, 0);
  assert.equal(withChange(s, { offset: 60 }).offset, 60);
  const t = withChange(s, { tags: toggled(s.tags, 'b') });
  assert.deepEqual(t.tags, ['a', 'b']);
  assert.deepEqual(s.tags, ['a'], 'the old state is left alone');
  assert.deepEqual(toggled(['a', 'b'], 'a'), ['b']);
});

test('markedRuns reads only <mark> as markup and decodes the escaped text', () => {
  assert.deepEqual(markedRuns('<mark>Alpine</mark> lake &amp; sunrise'), [
    { text: 'Alpine', mark: true },
    { text: ' lake & sunrise', mark: false },
  ]);
  assert.deepEqual(markedRuns('&lt;script&gt;alert(1)&lt;/script&gt; <mark>x</mark>'), [
    { text: '<script>alert(1)</script> ', mark: false },
    { text: 'x', mark: true },
  ]);
  // Unescaped markup (a server bug) stays text: it becomes a text node.
  assert.deepEqual(markedRuns('<b>bold</b>'), [{ text: '<b>bold</b>', mark: false }]);
  assert.deepEqual(markedRuns('…it&#39;s <mark>here</mark>…'), [
    { text: '…it\'s ', mark: false }, { text: 'here', mark: true }, { text: '…', mark: false },
  ]);
  assert.deepEqual(markedRuns(''), []);
  assert.deepEqual(markedRuns(undefined), []);
  assert.equal(decodeEntities('&#34;q&#34; &quot;r&quot; &#x41; &bogus; &#0;'), '"q" "r" A &bogus; &#0;');
});

test('formatViews', () => {
  assert.equal(formatViews(0), '0 views');
  assert.equal(formatViews(1), '1 view');
  assert.equal(formatViews(1234), '1,234 views');
  assert.equal(formatViews(undefined), '');
  assert.equal(formatViews(-1), '');
});
