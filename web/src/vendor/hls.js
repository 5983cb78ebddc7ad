// Separate chunk for the player library: loaded with import() only on the
// watch page, so the app bundle stays small.
export { default } from 'hls.js';
