// Player beacons (POST /api/v1/beacons, origin/beacon): what one playback
// measured, sent as the session's running totals, so a lost or repeated
// beacon does no harm (the server counts only what grew).
//
// A session is one playback: one page view of one video. A reload, or
// coming back to the video later, is a new session and counts another
// view once 10 s of it are watched; more beacons of the same session
// never do.

export const BEACON_URL = '/api/v1/beacons';
// Beacons while playing; pause, end, leaving the page send one at once.
export const BEACON_EVERY_MS = 5000;
// A jump of currentTime larger than this between two timeupdates is a
// seek, not playback (timeupdate fires 4 to 66 times a second).
const MAX_STEP_S = 1.5;

/** A random session ID (crypto.randomUUID where the page is secure). */
export function newSessionID() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * PlaybackMeter adds up one session's figures from the player's events;
 * it knows nothing of the DOM (times are passed in), so it is tested
 * alone. All times are milliseconds of one clock (performance.now()).
 */
export class PlaybackMeter {
  constructor({ session, video }) {
    this.session = session;
    this.video = video;
    this.startupMs = null; // play requested → first frame
    this.rebuffers = 0;
    this.rebufferMs = 0; // finished stalls
    this.watchedS = 0;
    this.kilobits = 0; // bitrate × time, over bitrateS of the watched time
    this.bitrateS = 0;
    this.errors = 0;
    this.edge = '';
    this.kbps = 0; // the rung playing now (0: unknown)
    this.beacons = 0;
    this.playAt = null;
    this.stallAt = null;
    this.lastTime = null;
    this.sent = null; // the totals of the last beacon
  }

  /** The viewer (or the page) asked to play. */
  play(now) {
    if (this.startupMs === null && this.playAt === null) this.playAt = now;
  }

  /** Frames are shown: the first time ends startup, later ones a stall. */
  playing(now) {
    if (this.startupMs === null && this.playAt !== null) {
      this.startupMs = Math.max(0, now - this.playAt);
    }
    this.endStall(now);
  }

  /** Playback stopped for want of data. Not a stall: before the first frame, or in a seek. */
  waiting(now, seeking) {
    if (this.startupMs === null || seeking || this.stallAt !== null) return;
    this.stallAt = now;
    this.rebuffers++;
  }

  /** A seek or a pause ends a stall too: what follows is not the network's doing. */
  endStall(now) {
    if (this.stallAt === null) return;
    this.rebufferMs += Math.max(0, now - this.stallAt);
    this.stallAt = null;
  }

  /** The playhead moved to t (seconds); seeking says it jumped. */
  timeupdate(t, seeking) {
    const last = this.lastTime;
    this.lastTime = t;
    if (seeking || last === null) return;
    const d = t - last;
    if (d <= 0 || d > MAX_STEP_S) return;
    this.watchedS += d;
    if (this.kbps > 0) {
      this.kilobits += this.kbps * d;
      this.bitrateS += d;
    }
  }

  /** The playhead jumped (seeked): the next step starts from t. */
  seeked(t) { this.lastTime = t; }

  setBitrate(kbps) { this.kbps = kbps > 0 ? kbps : 0; }
  setEdge(host) { if (host) this.edge = host; }
  error() { this.errors++; }

  /** The figures as the page measured them (window.__strata.playback). */
  figures(now) {
    return {
      session: this.session,
      video: this.video,
      startupMs: this.startupMs,
      rebuffers: this.rebuffers,
      rebufferMs: this.rebufferMs + (this.stallAt === null ? 0 : Math.max(0, now - this.stallAt)),
      watchedS: this.watchedS,
      kilobits: this.kilobits,
      bitrateS: this.bitrateS,
      bitrateKbpsAvg: this.bitrateS > 0 ? this.kilobits / this.bitrateS : 0,
      errors: this.errors,
      edge: this.edge,
      beacons: this.beacons,
    };
  }

  /**
   * The next beacon, or null when nothing grew since the last one (or
   * nothing happened yet). bitrate_kbps is the average over the watched
   * time since the last beacon, which the server weights by that time:
   * its sums then equal the page's.
   */
  next(now) {
    if (this.startupMs === null && this.errors === 0) return null;
    const f = this.figures(now);
    const b = {
      session: this.session,
      video: this.video,
      watched_s: round(f.watchedS, 3),
      startup_ms: this.startupMs === null ? 0 : round(this.startupMs, 1),
      rebuffers: f.rebuffers,
      rebuffer_ms: round(f.rebufferMs, 1),
      bitrate_kbps: 0,
      errors: f.errors,
      edge: f.edge,
    };
    const prev = this.sent;
    if (prev && b.watched_s === prev.watched_s && b.rebuffers === prev.rebuffers &&
      b.rebuffer_ms === prev.rebuffer_ms && b.errors === prev.errors && b.startup_ms === prev.startup_ms && b.edge === prev.edge) {
      return null;
    }
    const dKb = this.kilobits - (prev?.kilobits ?? 0);
    const dS = this.bitrateS - (prev?.bitrateS ?? 0);
    b.bitrate_kbps = dS > 0 ? round(dKb / dS, 3) : this.kbps;
    this.sent = { ...b, kilobits: this.kilobits, bitrateS: this.bitrateS };
    this.beacons++;
    return b;
  }
}

function round(x, digits) {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

/** Sends one beacon; sendBeacon survives the page going away. */
export function sendBeacon(body) {
  const json = JSON.stringify(body);
  // text/plain keeps sendBeacon's request a simple one; the server reads
  // the body as JSON whatever its type.
  if (navigator.sendBeacon?.(BEACON_URL, new Blob([json], { type: 'text/plain;charset=UTF-8' }))) return;
  fetch(BEACON_URL, { method: 'POST', body: json, keepalive: true, credentials: 'same-origin' }).catch(() => {});
}

/**
 * Measures the playback of <video> el (and hls.js' hls, when it plays
 * through it) for one session of videoID, beaconing every BEACON_EVERY_MS
 * while something grows, at once on pause, end and when the page is hidden
 * or left, and when signal aborts (the app navigated away). The page's own
 * figures are on window.__strata.playback.
 */
export function trackPlayback({ el, videoID, signal, send = sendBeacon, now = () => performance.now() }) {
  const meter = new PlaybackMeter({ session: newSessionID(), video: videoID });
  const expose = () => {
    if (window.__strata) window.__strata.playback = meter.figures(now());
  };
  const flush = () => {
    const b = meter.next(now());
    if (b) send(b);
    expose();
  };
  const on = (target, type, fn) => target.addEventListener(type, fn, { signal });
  on(el, 'play', () => meter.play(now()));
  on(el, 'playing', () => { meter.playing(now()); expose(); });
  on(el, 'waiting', () => meter.waiting(now(), el.seeking));
  on(el, 'seeking', () => meter.endStall(now()));
  on(el, 'seeked', () => meter.seeked(el.currentTime));
  on(el, 'timeupdate', () => { meter.timeupdate(el.currentTime, el.seeking); expose(); });
  on(el, 'pause', () => { meter.endStall(now()); flush(); });
  on(el, 'ended', flush);
  // hls.js reports its own fatal errors (fatal below); the element's
  // error event is the browser's own player failing (native HLS).
  let viaHls = false;
  on(el, 'error', () => { if (!viaHls) { meter.error(); flush(); } });
  on(window, 'pagehide', flush);
  on(document, 'visibilitychange', () => { if (document.visibilityState === 'hidden') flush(); });
  const timer = setInterval(() => { if (!el.paused) flush(); }, BEACON_EVERY_MS);
  signal.addEventListener('abort', () => {
    clearInterval(timer);
    const b = meter.next(now());
    if (b) send(b);
  }, { once: true });
  expose();
  return {
    meter,
    /** hls.js plays the video: its errors are counted through fatal. */
    usingHls() { viaHls = true; },
    /** hls.js reports: the rung now playing (bits/s), a fatal error, a fragment's URL. */
    bitrate(bps) { meter.setBitrate(bps / 1000); },
    fatal() { meter.error(); flush(); },
    fragment(url) {
      try { meter.setEdge(new URL(url, location.href).host); } catch { /* not a URL: keep the last */ }
    },
  };
}
