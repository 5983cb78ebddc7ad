// Unit tests for the passkey JSON helpers, the ?next= guard and the media
// token helper: `npm test` (node's built-in test runner).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  fromBase64url, toBase64url, creationOptions, requestOptions, credentialJSON, deviceLabel, describeWebAuthnError,
} from '../src/lib/webauthn.js';
import { safeNext } from '../src/lib/auth.js';
import { withToken } from '../src/player.js';

const bytes = (...b) => new Uint8Array(b);

test('base64url round trip', () => {
  for (const b of [bytes(), bytes(0), bytes(0xfb, 0xff), bytes(0xfb, 0xff, 0xbf), bytes(1, 2, 3, 4, 5)]) {
    const s = toBase64url(b);
    assert.doesNotMatch(s, /[+/=]/);
    assert.deepEqual(fromBase64url(s), b);
  }
  assert.equal(toBase64url(bytes(0xfb, 0xff, 0xbf)), '-_-_');
  assert.equal(toBase64url(bytes(0xfb, 0xff, 0xbf).buffer), '-_-_');
  assert.equal(toBase64url(new DataView(bytes(9, 0xfb, 0xff, 0xbf, 9).buffer, 1, 3)), '-_-_');
  assert.deepEqual(fromBase64url('AQI='), bytes(1, 2)); // padding tolerated
  assert.throws(() => fromBase64url('a b'));
  assert.throws(() => fromBase64url('A'));
  // Large buffers (beyond String.fromCharCode's argument limit) work.
  const big = new Uint8Array(200000).map((_, i) => i & 0xff);
  assert.deepEqual(fromBase64url(toBase64url(big)), big);
});

test('creationOptions decodes go-webauthn\'s JSON', () => {
  const json = {
    publicKey: {
      rp: { name: 'Strata', id: 'localhost' },
      user: { name: 'ada', displayName: 'Ada', id: toBase64url(bytes(7, 8, 9)) },
      challenge: toBase64url(bytes(1, 2, 3)),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      timeout: 300000,
      excludeCredentials: [{ type: 'public-key', id: toBase64url(bytes(4, 5)), transports: ['internal'] }],
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      attestation: 'none',
    },
  };
  const o = creationOptions(json);
  assert.deepEqual(o.challenge, bytes(1, 2, 3));
  assert.deepEqual(o.user.id, bytes(7, 8, 9));
  assert.equal(o.user.name, 'ada');
  assert.deepEqual(o.excludeCredentials[0].id, bytes(4, 5));
  assert.deepEqual(o.excludeCredentials[0].transports, ['internal']);
  assert.equal(o.rp.id, 'localhost');
  assert.equal(json.publicKey.challenge, toBase64url(bytes(1, 2, 3)), 'the input is not changed');
  assert.throws(() => creationOptions({ publicKey: { challenge: 'AQ' } }), /incomplete/);
});

test('requestOptions decodes allowCredentials, keeps a discoverable request bare', () => {
  const o = requestOptions({ publicKey: { challenge: 'AQID', rpId: 'localhost', allowCredentials: [{ type: 'public-key', id: 'BAU' }] } });
  assert.deepEqual(o.challenge, bytes(1, 2, 3));
  assert.deepEqual(o.allowCredentials[0].id, bytes(4, 5));
  const d = requestOptions({ publicKey: { challenge: 'AQID', rpId: 'localhost', userVerification: 'preferred' } });
  assert.equal(d.allowCredentials, undefined);
  assert.throws(() => requestOptions({}), /incomplete/);
});

test('credentialJSON encodes attestations and assertions', () => {
  const att = credentialJSON({
    id: 'AQI', rawId: bytes(1, 2).buffer, type: 'public-key', authenticatorAttachment: 'platform',
    getClientExtensionResults: () => ({ credProps: { rk: true } }),
    response: { clientDataJSON: bytes(3).buffer, attestationObject: bytes(4).buffer, getTransports: () => ['internal'] },
  });
  assert.deepEqual(att, {
    id: 'AQI', rawId: 'AQI', type: 'public-key', authenticatorAttachment: 'platform',
    clientExtensionResults: { credProps: { rk: true } },
    response: { clientDataJSON: 'Aw', attestationObject: 'BA', transports: ['internal'] },
  });
  const asr = credentialJSON({
    id: 'AQI', rawId: bytes(1, 2).buffer, type: 'public-key', authenticatorAttachment: null,
    response: { clientDataJSON: bytes(3).buffer, authenticatorData: bytes(5).buffer, signature: bytes(6).buffer, userHandle: bytes(7).buffer },
  });
  assert.deepEqual(asr.response, { clientDataJSON: 'Aw', authenticatorData: 'BQ', signature: 'Bg', userHandle: 'Bw' });
  assert.deepEqual(asr.clientExtensionResults, {});
  assert.equal(asr.authenticatorAttachment, undefined);
  const noHandle = credentialJSON({ id: 'x', rawId: bytes(1).buffer, type: 'public-key',
    response: { clientDataJSON: bytes(3).buffer, authenticatorData: bytes(5).buffer, signature: bytes(6).buffer, userHandle: null } });
  assert.equal(noHandle.response.userHandle, null);
});

test('deviceLabel and error sentences', () => {
  const chromeLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
  assert.equal(deviceLabel(chromeLinux), 'Chrome on Linux');
  assert.equal(deviceLabel(chromeLinux, 'ChromeOS'), 'Chrome on ChromeOS');
  assert.equal(deviceLabel('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'), 'Safari on iOS');
  assert.equal(deviceLabel('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'), 'Firefox on Windows');
  assert.equal(deviceLabel('curl/8'), 'Passkey');
  assert.match(describeWebAuthnError({ name: 'NotAllowedError' }), /cancelled or timed out/);
  assert.match(describeWebAuthnError({ name: 'InvalidStateError' }, true), /already holds a passkey/);
  assert.match(describeWebAuthnError({ name: 'SecurityError' }), /secure address/);
  assert.equal(describeWebAuthnError(new Error('boom')), 'boom');
});

test('safeNext keeps ?next= on this site', () => {
  assert.equal(safeNext('/upload'), '/upload');
  assert.equal(safeNext('/watch/abc?t=1'), '/watch/abc?t=1');
  assert.equal(safeNext('//evil.example/x'), '/');
  assert.equal(safeNext('/\\evil.example'), '/');
  assert.equal(safeNext('https://evil.example/'), '/');
  assert.equal(safeNext('javascript:alert(1)'), '/');
  assert.equal(safeNext('/api/v1/account/logout'), '/');
  assert.equal(safeNext('/a\nb'), '/');
  assert.equal(safeNext(null, '/account/videos'), '/account/videos');
  assert.equal(safeNext('', '/x'), '/x');
});

test('withToken sets the token on every media URL', () => {
  assert.equal(withToken('http://localhost:8080/media/v1/master.m3u8', 'T1'), 'http://localhost:8080/media/v1/master.m3u8?token=T1');
  assert.equal(withToken('http://localhost:8080/media/v1/master.m3u8?token=OLD', 'NEW'), 'http://localhost:8080/media/v1/master.m3u8?token=NEW');
  assert.equal(withToken('http://h/media/v1/360p/seg1.m4s?x=1', 'a+b/c'), 'http://h/media/v1/360p/seg1.m4s?x=1&token=a%2Bb%2Fc');
  assert.equal(withToken('http://h/media/v1/a.m4s', ''), 'http://h/media/v1/a.m4s');
});
