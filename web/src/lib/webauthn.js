// Passkeys: the WebAuthn calls and the JSON the server speaks.
//
// The server (go-webauthn) sends options as JSON with binary fields in
// base64url (challenge, user.id, allowCredentials[].id,
// excludeCredentials[].id) and wants the credential back the same way.
// The browser API takes and gives ArrayBuffers; these helpers convert.
// They are pure except create()/get(), so node --test covers them.

/** base64url (padding optional) -> Uint8Array. */
export function fromBase64url(s) {
  if (typeof s !== 'string') throw new TypeError('base64url: not a string');
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (/[^A-Za-z0-9+/]/.test(b64) || b64.length % 4 === 1) throw new TypeError('base64url: invalid characters or length');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** ArrayBuffer, typed array or DataView -> base64url without padding. */
export function toBase64url(buf) {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(ArrayBuffer.isView(buf) ? buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) : buf);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const descriptors = (list) => (Array.isArray(list) ? list.map((c) => ({ ...c, id: fromBase64url(c.id) })) : undefined);

/** The server's creation options ({publicKey: …} or bare) -> navigator.credentials.create's publicKey. */
export function creationOptions(json) {
  const pk = json?.publicKey ?? json;
  if (!pk?.challenge || !pk?.user?.id) throw new TypeError('the server sent incomplete passkey options');
  const out = { ...pk, challenge: fromBase64url(pk.challenge), user: { ...pk.user, id: fromBase64url(pk.user.id) } };
  if (pk.excludeCredentials) out.excludeCredentials = descriptors(pk.excludeCredentials);
  return out;
}

/** The server's request options -> navigator.credentials.get's publicKey. */
export function requestOptions(json) {
  const pk = json?.publicKey ?? json;
  if (!pk?.challenge) throw new TypeError('the server sent incomplete passkey options');
  const out = { ...pk, challenge: fromBase64url(pk.challenge) };
  if (pk.allowCredentials) out.allowCredentials = descriptors(pk.allowCredentials);
  return out;
}

const b64OrNull = (buf) => (buf && buf.byteLength > 0 ? toBase64url(buf) : null);

/** A PublicKeyCredential from create() or get() -> the JSON the server parses. */
export function credentialJSON(cred) {
  const r = cred.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    response.userHandle = b64OrNull(r.userHandle);
  }
  return {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
    clientExtensionResults: typeof cred.getClientExtensionResults === 'function' ? cred.getClientExtensionResults() : {},
    response,
  };
}

/** Whether this browser can use passkeys at all. */
export function supported() {
  return typeof window !== 'undefined' && !!window.PublicKeyCredential && !!navigator.credentials?.create;
}

/** Asks the authenticator for a new passkey; resolves to the JSON for register/finish. */
export async function createPasskey(options, signal) {
  const cred = await navigator.credentials.create({ publicKey: creationOptions(options), signal });
  if (!cred) throw new Error('No passkey was made.');
  return credentialJSON(cred);
}

/** Asks the authenticator to sign in; resolves to the JSON for login/finish. */
export async function usePasskey(options, signal) {
  const cred = await navigator.credentials.get({ publicKey: requestOptions(options), signal });
  if (!cred) throw new Error('No passkey was chosen.');
  return credentialJSON(cred);
}

/** One readable sentence for a failed create()/get(). */
export function describeWebAuthnError(err, creating = false) {
  switch (err?.name) {
    case 'NotAllowedError':
      return 'The passkey request was cancelled or timed out. Try again when you are ready.';
    case 'InvalidStateError':
      return creating
        ? 'This device already holds a passkey for this account.'
        : 'This passkey cannot be used here.';
    case 'SecurityError':
      return 'Passkeys need a secure address: open this site over https:// (or as http://localhost during development).';
    case 'NotSupportedError':
      return 'This device has no authenticator that can make a passkey.';
    case 'AbortError':
      return 'The passkey request was stopped.';
    default:
      return err?.message || String(err);
  }
}

/** A label for a new passkey, like "Chrome on Linux", from what the browser says. */
export function deviceLabel(ua = '', platform = '') {
  const browser = /Edg\//.test(ua) ? 'Edge'
    : /Firefox\//.test(ua) ? 'Firefox'
      : /(Chrome|Chromium|CriOS)\//.test(ua) ? 'Chrome'
        : /Safari\//.test(ua) ? 'Safari' : '';
  const os = platform || (/Android/.test(ua) ? 'Android'
    : /iPhone|iPad|iPod/.test(ua) ? 'iOS'
      : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
        : /Windows/.test(ua) ? 'Windows'
          : /CrOS/.test(ua) ? 'ChromeOS'
            : /Linux/.test(ua) ? 'Linux' : '');
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || 'Passkey';
}
