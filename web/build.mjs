// Builds the Strata web UI into dist/ (embedded into the Go binary by embed.go).
//
//   npm ci && npm run build
//
// The output is deterministic: same sources + same lockfile => byte-identical
// dist/, wherever the checkout lives (no timestamps, no absolute paths, no
// random ids). CI rebuilds and checks that nothing changed.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, 'dist');
const require = createRequire(import.meta.url);

const contentHash = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 10);

/** Write an asset under dist/assets/ with a content hash; return its URL path. */
async function emitHashed(name, ext, contents) {
  const rel = `assets/${name}-${contentHash(contents)}.${ext}`;
  await writeFile(path.join(dist, rel), contents);
  return `/${rel}`;
}

await rm(dist, { recursive: true, force: true });
await mkdir(path.join(dist, 'assets'), { recursive: true });

// 1. Static assets that JS or HTML refer to by URL.
const logoURL = await emitHashed('logo', 'svg', await readFile(path.join(root, 'src/logo.svg')));

// hls.js' ESM build runs its transmuxer in a Web Worker only when given a
// worker script URL (config.workerPath). Ship the package's worker as a
// hashed same-origin asset (its source-map comment points at a file we don't ship).
const workerSrc = (await readFile(require.resolve('hls.js/dist/hls.worker.js'), 'utf8'))
  .replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
const workerURL = await emitHashed('hls.worker', 'js', workerSrc);

// 2. JS + CSS bundle. hls.js and tus-js-client are dynamic imports, so with
// splitting they become their own chunks, fetched only where needed.
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { app: 'src/main.js' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  charset: 'utf8',
  entryNames: 'assets/[name]-[hash]',
  chunkNames: 'assets/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  publicPath: '/',
  define: {
    __HLS_WORKER_PATH__: JSON.stringify(workerURL),
    'process.env.NODE_ENV': '"production"',
  },
  metafile: true,
  write: true,
  logLevel: 'warning',
});

// 3. index.html from the template, pointing at the hashed files.
const outputs = result.metafile.outputs;
const appJS = Object.keys(outputs).find((f) => outputs[f].entryPoint === 'src/main.js');
if (!appJS) throw new Error('build: app entry output not found');
const appCSS = outputs[appJS].cssBundle;
if (!appCSS) throw new Error('build: app CSS bundle not found');
const url = (f) => `/${path.posix.relative('dist', f)}`;
// Chunks the app imports statically (shared code) are preloaded.
const preloads = outputs[appJS].imports
  .filter((i) => i.kind === 'import-statement' && !i.external)
  .map((i) => `<link rel="modulepreload" href="${url(i.path)}">`)
  .sort();

const template = await readFile(path.join(root, 'src/index.html'), 'utf8');
const html = template
  .replaceAll('{{logo}}', logoURL)
  .replaceAll('{{app.css}}', url(appCSS))
  .replaceAll('{{app.js}}', url(appJS))
  .replace(/^([ \t]*)\{\{modulepreload\}\}\n/m, (_m, indent) =>
    preloads.map((l) => `${indent}${l}\n`).join(''));
if (/\{\{[^}]*\}\}/.test(html)) throw new Error('build: unreplaced placeholder in index.html');
await writeFile(path.join(dist, 'index.html'), html);

// 4. Licences of the third-party packages that end up in dist/.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) packages.add(m[1]);
}
packages.add('hls.js'); // the worker is copied, not bundled
const notices = [];
for (const name of [...packages].sort()) {
  const dir = path.dirname(require.resolve(`${name}/package.json`));
  const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
  let text = '';
  for (const f of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'LICENCE']) {
    try {
      text = (await readFile(path.join(dir, f), 'utf8')).trim();
      break;
    } catch {
      // try the next name
    }
  }
  notices.push(`${pkg.name} ${pkg.version} (${pkg.license || 'see package'})\n\n${text || '(no licence file in package)'}\n`);
}
await writeFile(path.join(dist, 'assets', 'third-party-licenses.txt'),
  `Third-party software included in the Strata web UI\n${'='.repeat(52)}\n\n${notices.join(`\n${'-'.repeat(72)}\n\n`)}`);

// Summary.
const sizes = Object.entries(outputs)
  .map(([f, o]) => `  ${url(f).padEnd(44)} ${String(o.bytes).padStart(8)} B`)
  .sort();
console.log(`built dist/ (index.html, ${url(appJS)}, ${url(appCSS)})\n${sizes.join('\n')}`);
