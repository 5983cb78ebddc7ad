// Separate chunk for the resumable-upload client: loaded with import() only
// on the upload page.
export { Upload } from 'tus-js-client';
