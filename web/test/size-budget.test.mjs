// The size budget of the UI's own JavaScript: at most 150 KB gzipped, not
// counting the player library (hls.js and its worker, fetched only by the
// watch page). The upload library (tus-js-client) is counted. It checks
// the committed build in dist/, which CI keeps equal to a fresh one
// (make web-check).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const assets = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'assets');
const BUDGET = 150 * 1024;
const isPlayer = (name) => /^hls(\.worker)?-[\w]+\.js$/.test(name);

test('the UI\'s own JS is at most 150 KB gzipped (hls.js not counted)', async () => {
  const files = (await readdir(assets)).filter((f) => f.endsWith('.js'));
  assert.ok(files.some((f) => /^app-/.test(f)), `no app-*.js in ${assets}: run make web`);
  assert.ok(files.some(isPlayer), 'the player library is no longer a chunk of its own: the budget would count it');
  let total = 0;
  const sizes = [];
  for (const f of files.filter((f) => !isPlayer(f))) {
    const n = gzipSync(await readFile(path.join(assets, f)), { level: 9 }).length;
    sizes.push(`${f} ${n} B`);
    total += n;
  }
  assert.ok(total <= BUDGET, `own JS is ${total} B gzipped, over the ${BUDGET} B budget:\n  ${sizes.join('\n  ')}`);
});
