// Storyboard VTT parsing, cue lookup and thumbnail sizes (src/lib/storyboard.js).
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseStoryboard, parseVTTTime, cueAt, thumbSrcset, pickThumbnail, pendingText } from '../src/lib/storyboard.js';

const VTT = `WEBVTT

00:00:00.000 --> 00:00:03.000
sprite-ab12-0.jpg#xywh=0,0,160,90

00:00:03.000 --> 00:00:06.000
sprite-ab12-0.jpg#xywh=160,0,160,90

NOTE a comment

00:00:06.000 --> 00:01:00.500
sprite-ab12-1.jpg#xywh=0,90,160,90
`;

test('parseVTTTime', () => {
  assert.equal(parseVTTTime('00:00:03.000'), 3);
  assert.equal(parseVTTTime('01:02.500'), 62.5);
  assert.equal(parseVTTTime('1:00:00.000'), 3600);
  assert.ok(Number.isNaN(parseVTTTime('x:00')));
});

test('parseStoryboard resolves sprites against the VTT and keeps the tile', () => {
  const cues = parseStoryboard(VTT, 'http://h/media/v1/storyboard-ab12.vtt');
  assert.equal(cues.length, 3);
  assert.deepEqual(cues[1], { start: 3, end: 6, url: 'http://h/media/v1/sprite-ab12-0.jpg', x: 160, y: 0, w: 160, h: 90 });
  assert.equal(cues[2].end, 60.5);
  assert.equal(cues[2].url, 'http://h/media/v1/sprite-ab12-1.jpg');
});

test('parseStoryboard adds the media token (the VTT URL\'s own query is not inherited)', () => {
  const cues = parseStoryboard(VTT, 'http://h/media/v1/storyboard-ab12.vtt?token=OLD', 'T0K');
  assert.equal(cues[0].url, 'http://h/media/v1/sprite-ab12-0.jpg?token=T0K');
});

test('parseStoryboard tolerates CRLF, a BOM and junk; rejects non-VTT', () => {
  const crlf = '\uFEFFWEBVTT\r\n\r\n00:00.000 --> 00:02.000\r\ns.jpg#xywh=1,2,3,4\r\n\r\n00:02.000 --> 00:04.000\r\nno-fragment.jpg\r\n';
  const cues = parseStoryboard(crlf, 'http://h/a/b.vtt');
  assert.deepEqual(cues.map((c) => [c.start, c.end, c.url, c.x, c.y, c.w, c.h]), [[0, 2, 'http://h/a/s.jpg', 1, 2, 3, 4]]);
  assert.deepEqual(parseStoryboard('<html>', 'http://h/'), []);
  assert.deepEqual(parseStoryboard(undefined, 'http://h/'), []);
});

test('cueAt finds the tile for a time', () => {
  const cues = parseStoryboard(VTT, 'http://h/v.vtt');
  assert.equal(cueAt(cues, 0).x, 0);
  assert.equal(cueAt(cues, 2.999).x, 0);
  assert.equal(cueAt(cues, 3).x, 160);
  assert.equal(cueAt(cues, 59).y, 90);
  assert.equal(cueAt(cues, 600).y, 90); // past the end: the last tile
  assert.equal(cueAt(cues, -1).x, 0);
  assert.equal(cueAt([], 1), null);
  assert.equal(cueAt(cues, NaN), null);
});

const THUMBS = [
  { url: '/media/v/thumb-1280.jpg', width: 1280, height: 720 },
  { url: '/media/v/thumb-640.jpg', width: 640, height: 360 },
  { url: '/media/v/thumb-320.jpg', width: 320, height: 180 },
];

test('thumbSrcset lists every size with its width', () => {
  assert.equal(thumbSrcset(THUMBS), '/media/v/thumb-1280.jpg 1280w, /media/v/thumb-640.jpg 640w, /media/v/thumb-320.jpg 320w');
  assert.equal(thumbSrcset([]), '');
  assert.equal(thumbSrcset(null), '');
  assert.equal(thumbSrcset([{ url: '/x.jpg' }]), '');
});

test('pickThumbnail takes the smallest that covers the box', () => {
  assert.equal(pickThumbnail(THUMBS, 300, 1).width, 320);
  assert.equal(pickThumbnail(THUMBS, 390, 2).width, 1280);
  assert.equal(pickThumbnail(THUMBS, 390, 1).width, 640);
  assert.equal(pickThumbnail(THUMBS, 2000, 1).width, 1280);
  assert.equal(pickThumbnail([], 300), null);
});

test('pendingText orders the rungs', () => {
  assert.equal(pendingText(['1080p', '720p']), '720p, 1080p');
  assert.equal(pendingText([]), '');
  assert.equal(pendingText(undefined), '');
});
