// Unit tests of the player's beacon figures (lib/beacons.js).
import test from 'node:test';
import assert from 'node:assert/strict';
import { PlaybackMeter } from '../src/lib/beacons.js';

test('nothing to send before the first frame', () => {
  const m = new PlaybackMeter({ session: 's', video: 'v' });
  m.play(100);
  m.waiting(150, false); // before startup: part of startup, not a stall
  assert.equal(m.next(200), null);
  assert.equal(m.rebuffers, 0);
});

test('startup, stalls, watched time and the time-weighted bitrate', () => {
  const m = new PlaybackMeter({ session: 's', video: 'v' });
  m.play(1000);
  m.playing(1450);
  assert.equal(m.startupMs, 450);
  m.setBitrate(800);
  for (let t = 0.25; t <= 4; t += 0.25) m.timeupdate(t, false);
  const b1 = m.next(5000);
  assert.deepEqual({ ...b1, watched_s: Math.round(b1.watched_s * 1000) / 1000 }, {
    session: 's', video: 'v', watched_s: 3.75, startup_ms: 450, rebuffers: 0, rebuffer_ms: 0,
    bitrate_kbps: 800, errors: 0, edge: '',
  });
  assert.equal(m.next(5001), null, 'nothing grew');

  m.waiting(6000, false);
  m.waiting(6100, false); // the same stall
  assert.equal(m.next(6500).rebuffer_ms, 500, 'an ongoing stall counts so far');
  m.playing(7000);
  m.setBitrate(1600);
  for (let t = 4.25; t <= 6; t += 0.25) m.timeupdate(t, false);
  const b2 = m.next(8000);
  assert.equal(b2.rebuffers, 1);
  assert.equal(b2.rebuffer_ms, 1000);
  assert.equal(b2.bitrate_kbps, 1600, 'the average since the last beacon');
  // The server adds bitrate × watched growth per beacon: the page's sums.
  const serverKb = 800 * 3.75 + b2.bitrate_kbps * (b2.watched_s - b1.watched_s);
  assert.ok(Math.abs(serverKb - m.kilobits) < 0.01);
  assert.ok(Math.abs(m.figures(8000).bitrateKbpsAvg - (800 * 3.75 + 1600 * 2) / 5.75) < 1e-9);
});

test('seeks are neither watched time nor stalls', () => {
  const m = new PlaybackMeter({ session: 's', video: 'v' });
  m.play(0);
  m.playing(100);
  m.timeupdate(0.5, false);
  m.timeupdate(1, false);
  m.waiting(200, true); // waiting while seeking
  m.timeupdate(30, true);
  m.seeked(30);
  m.timeupdate(30.5, false);
  m.timeupdate(45, false); // a jump without a seeking flag
  assert.equal(m.rebuffers, 0);
  assert.equal(m.watchedS, 1);
});

test('errors and the edge', () => {
  const m = new PlaybackMeter({ session: 's', video: 'v' });
  m.error();
  m.setEdge('edge-1.example:8443');
  const b = m.next(10);
  assert.equal(b.errors, 1, 'an error before the first frame is still reported');
  assert.equal(b.startup_ms, 0);
  assert.equal(b.edge, 'edge-1.example:8443');
});
