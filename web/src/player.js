// Adaptive playback. hls.js (and its transmuxer worker) are loaded lazily:
// the library lives in its own chunk and is fetched only by the watch page.
/* global __HLS_WORKER_PATH__ */
import { h } from './lib/dom.js';

// Set by build.mjs: URL of the hashed copy of hls.js' worker script.
const WORKER_PATH = typeof __HLS_WORKER_PATH__ === 'string' ? __HLS_WORKER_PATH__ : null;

let hlsModule = null;
/** Start fetching the player chunk early (e.g. while the video JSON loads). */
export function preloadHls() {
  hlsModule ??= import('./vendor/hls.js');
  return hlsModule;
}

function levelLabel(level, all) {
  const base = level.height ? `${level.height}p` : `${Math.round((level.bitrate || 0) / 1000)} kbps`;
  const same = all.filter((l) => l.height === level.height).length > 1;
  return same && level.bitrate ? `${base} · ${(level.bitrate / 1e6).toFixed(1)} Mbps` : base;
}

/**
 * url with its token query parameter set to token (private videos: every
 * playlist, segment and init request needs it, and the URIs inside a
 * playlist are relative, without it).
 */
export function withToken(url, token) {
  if (!token) return url;
  const u = new URL(url, typeof location !== 'undefined' ? location.href : 'http://localhost/');
  u.searchParams.set('token', token);
  return u.href;
}

/**
 * Attach an HLS source to <video>, wiring the quality <select> and, when
 * given, the subtitles <select> (the master's SUBTITLES renditions).
 * Everything is torn down when signal aborts. Reports fatal problems via onError.
 *
 * media, for a private video, is { token, refresh }: token goes on every
 * request hls.js makes; refresh() (async) fetches a new one when the
 * server refuses the old (it expires after some hours).
 *
 * tracker, when given, is lib/beacons.js' trackPlayback for this
 * playback: it hears the rung playing, the fragments' host (the edge
 * serving them) and fatal errors.
 */
export async function startPlayer({ video, select, subtitles = null, src, signal, onError, media = null, tracker = null }) {
  window.__strata.hls = null;
  tracker?.fragment(src);
  const { default: Hls } = await preloadHls();
  if (signal.aborted) return null;

  if (Hls.isSupported()) {
    // WebVTT subtitle renditions become native text tracks of <video>, so
    // the browser's own captions menu lists them too.
    const config = {
      workerPath: WORKER_PATH,
      enableWorker: Boolean(WORKER_PATH),
      enableWebVTT: true,
      renderTextTracksNatively: true,
      // A video still encoding is published as growing EVENT playlists,
      // which hls.js treats as live and would start near their end:
      // viewers start a video at its beginning.
      startPosition: 0,
    };
    if (media?.token) {
      // hls.js calls this before it opens each request: open it ourselves
      // with the token added.
      config.xhrSetup = (xhr, url) => {
        xhr.open('GET', withToken(url, media.token), true);
      };
    }
    const hls = new Hls(config);
    window.__strata.hls = hls;
    if (tracker) watchQuality(Hls, hls, tracker);
    signal.addEventListener('abort', () => {
      hls.destroy();
      if (window.__strata.hls === hls) window.__strata.hls = null;
    }, { once: true });

    const autoOption = h('option', { value: '-1' }, 'Auto');
    select.replaceChildren(autoOption);
    select.disabled = true;

    const fillLevels = () => {
      const levels = hls.levels.map((level, index) => ({ level, index }));
      levels.sort((a, b) => (b.level.height - a.level.height) || (b.level.bitrate - a.level.bitrate));
      select.replaceChildren(autoOption, ...levels.map(({ level, index }) =>
        h('option', { value: String(index) }, levelLabel(level, hls.levels))));
      select.value = hls.manualLevel >= 0 ? String(hls.manualLevel) : '-1';
      select.disabled = false;
    };
    hls.on(Hls.Events.MANIFEST_PARSED, fillLevels);
    hls.on(Hls.Events.LEVELS_UPDATED, fillLevels);
    hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
      const level = hls.levels[data.level];
      if (!level) return;
      const label = levelLabel(level, hls.levels);
      select.dataset.currentLevel = String(data.level);
      select.dataset.currentHeight = String(level.height || '');
      autoOption.textContent = hls.autoLevelEnabled ? `Auto (${label})` : 'Auto';
    });
    select.addEventListener('change', () => {
      const n = Number(select.value);
      // currentLevel switches immediately (flushing the buffer); -1 = auto (ABR).
      hls.currentLevel = n;
      if (n === -1) autoOption.textContent = 'Auto';
    });

    if (subtitles) wireSubtitles(Hls, hls, subtitles);

    let networkRetries = 0;
    let mediaRecoveries = 0;
    let tokenRefreshes = 0;
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      tracker?.fatal();
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR && data.response?.code === 403 && media?.refresh && tokenRefreshes++ < 2) {
        // The media token has probably expired: get a new one, go on.
        media.refresh().then(() => {
          if (!signal.aborted) hls.startLoad();
        }, () => onError?.('This private video could not be loaded: log in again.'));
        return;
      }
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR && networkRetries++ < 3) {
        hls.startLoad();
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries++ < 2) {
        hls.recoverMediaError();
      } else {
        onError?.(data.type === Hls.ErrorTypes.NETWORK_ERROR
          ? 'The video stream could not be loaded from the server.'
          : 'This video could not be played in your browser.');
        hls.destroy();
        if (window.__strata.hls === hls) window.__strata.hls = null;
      }
    });

    hls.loadSource(src);
    hls.attachMedia(video);

    // A processing video started with its low rungs (fast first play).
    // When the whole ladder is ready, reload the master on the next pause
    // (or at once when paused), from the same place: playback is never
    // interrupted, and the new rungs join the quality menu.
    let reloadWanted = false;
    const reloadNow = () => {
      if (!reloadWanted || signal.aborted || window.__strata.hls !== hls) return;
      reloadWanted = false;
      hls.config.startPosition = video.ended ? 0 : video.currentTime;
      hls.loadSource(src);
    };
    video.addEventListener('pause', reloadNow);
    return {
      refresh() {
        reloadWanted = true;
        if (video.paused && !video.seeking) reloadNow();
      },
    };
  }

  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    // Native HLS (Safari, iOS): the browser does ABR itself, and lists
    // the subtitle renditions in its own captions menu.
    select.replaceChildren(h('option', { value: '-1' }, 'Auto'));
    select.disabled = true;
    if (subtitles) {
      subtitles.replaceChildren(h('option', { value: '-1' }, "In the player's menu"));
      subtitles.disabled = true;
    }
    video.src = src;
    signal.addEventListener('abort', () => {
      video.removeAttribute('src');
      video.load();
    }, { once: true });
    return { refresh() {} }; // the browser reloads the live master itself
  }

  select.disabled = true;
  onError?.("Your browser can't play HLS video (it lacks Media Source Extensions).");
  return null;
}

/**
 * Tell tracker which rung plays (FRAG_CHANGED: the fragment at the
 * playhead, not the one loading) and where the fragments come from.
 */
function watchQuality(Hls, hls, tracker) {
  tracker.usingHls();
  hls.on(Hls.Events.FRAG_CHANGED, (_event, data) => {
    const level = hls.levels[data.frag?.level];
    if (level) tracker.bitrate(level.bitrate);
  });
  hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
    if (data.frag?.type === 'main' && data.frag.url) tracker.fragment(data.frag.url);
  });
}

/**
 * Fill the subtitles <select> from hls.js' subtitle tracks ("Off" first)
 * and switch tracks with it; a switch made elsewhere (the browser's
 * captions menu) is reflected back.
 */
function wireSubtitles(Hls, hls, subtitles) {
  const fill = () => {
    const tracks = hls.subtitleTracks || [];
    subtitles.replaceChildren(h('option', { value: '-1' }, 'Off'),
      ...tracks.map((t, i) => h('option', { value: String(i), lang: t.lang || null }, t.name || t.lang || `Track ${i + 1}`)));
    subtitles.value = String(hls.subtitleTrack);
    subtitles.disabled = tracks.length === 0;
  };
  hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, fill);
  hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, (_event, data) => {
    subtitles.value = String(data.id);
  });
  subtitles.addEventListener('change', () => {
    hls.subtitleDisplay = true;
    hls.subtitleTrack = Number(subtitles.value);
  });
}
