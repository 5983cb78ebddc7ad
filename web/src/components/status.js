// Shared bits for showing a video's processing state.
import { h } from '../lib/dom.js';
import { percent } from '../lib/format.js';

export const STATUS_LABEL = {
  uploaded: 'Waiting to be processed',
  processing: 'Processing',
  ready: 'Ready',
  failed: 'Processing failed',
};

export function statusText(video) {
  const label = STATUS_LABEL[video.status] || video.status || 'Unknown';
  if (video.status === 'processing') return `${label}… ${percent(video.progress)}%`;
  return label;
}

/** A <progress> with a visible label; update with setProgress(). */
export function progressBar({ label, testid, value = 0, small = false } = {}) {
  const bar = h('progress', {
    class: small ? 'progress progress-small' : 'progress',
    max: 100,
    'aria-label': label,
    'data-testid': testid,
  });
  setProgress(bar, value);
  return bar;
}

export function setProgress(bar, value) {
  const p = percent(value);
  bar.value = p;
  bar.textContent = `${p}%`;
  bar.dataset.percent = String(p);
}
