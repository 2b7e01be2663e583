import { connect as tlsConnect } from 'node:tls';

/**
 * How a client reads "which service, with which token" (SPEC §6): the SDK, `run` and the admin
 * commands take SECRETS_URL and SECRETS_TOKEN through these rules, so a value pasted with a
 * newline, a `Bearer ` in front or a missing scheme means the same thing to all of them.
 */

/** A service address or token that cannot be used. Names the setting, never its value (it may be a token). */
export class ServiceSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceSettingError';
  }
}

/** The characters of an RFC 6750 bearer token, as the service accepts them. */
const TOKEN_CHARACTERS = /^[A-Za-z0-9._~+/=-]+$/;

/**
 * The token in `raw` as people paste it: surrounding whitespace (a file's trailing newline) and
 * an `Authorization`-style `Bearer ` prefix are dropped. Empty when nothing is left.
 */
export function serviceToken(raw: string | undefined, setting = 'SECRETS_TOKEN'): string {
  const token = (raw ?? '').trim().replace(/^Bearer\s+/i, '');
  if (token !== '' && !TOKEN_CHARACTERS.test(token)) {
    throw new ServiceSettingError(`${setting} holds characters no token has (whitespace or control characters inside it?): set it to the token alone, slt_…`);
  }
  return token;
}

const API_ROOT = /\/api\/v1\/?$/;

/**
 * The service's base address from `raw`: an absolute http:// or https:// URL, with a trailing
 * `/api/v1` (what the API's own paths start with) taken as the service itself. A path in front
 * of it (a proxy's prefix) is kept. The error names `setting` and what it expects, not the value.
 */
export function serviceUrl(raw: string, setting = 'SECRETS_URL'): URL {
  const expected = 'an address such as http://127.0.0.1:3000 or https://secrets.internal';
  const trimmed = raw.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) throw new ServiceSettingError(`${setting} has no http:// or https:// in front: expected ${expected}`);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ServiceSettingError(`${setting} is not a valid URL: expected ${expected}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ServiceSettingError(`${setting} must start with http:// or https://, not ${url.protocol}//: expected ${expected}`);
  url.pathname = url.pathname.replace(API_ROOT, '/');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * One line for a failed connection, saying what to change when the scheme does not match the
 * port: `https://` to a plain-HTTP service fails inside OpenSSL ("wrong version number"), and
 * `http://` to an HTTPS service is only a hung-up socket, so that case is confirmed with a TLS
 * handshake (no request, no token) before it is said.
 */
export async function describeConnectionFailure(error: Error, url: URL): Promise<string> {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const where = url.host;
  if (url.protocol === 'https:' && code === 'EPROTO' && /wrong version number|packet length too long|http request/i.test(error.message)) {
    return `${where} answers plain HTTP, not HTTPS: use http://${where}`;
  }
  if (url.protocol === 'http:' && (code === 'ECONNRESET' || /socket hang up/.test(error.message)) && (await speaksTls(url))) {
    return `${where} answers HTTPS, not plain HTTP: use https://${where}`;
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return `its TLS certificate is not trusted (${error.message}, ${code}); give the CA that signed it (SECRETS_CA_FILE, or the client's \`ca\` option)`;
  }
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

const TLS_PROBE_MS = 2_000;

function speaksTls(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const port = Number(url.port || 80);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Only the handshake is wanted: whether the certificate is trusted is another question.
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, timeout: TLS_PROBE_MS }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
