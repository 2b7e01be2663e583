import fc from 'fast-check';
import { request as httpRequest } from 'node:http';

export interface SpelledResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends a request with its target exactly as given — percent-encoded, absolute-form, with
 * repeated slashes or dot segments — which fetch would normalise first. One connection per
 * request, so an answer with `Connection: close` costs the next request nothing.
 */
export function sendSpelled(baseUrl: string, method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<SpelledResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) };
    const req = httpRequest({ host: hostname, port: Number(port), method, path: target, headers: outgoing, agent: false }, (res) => {
      // A change stream never ends by itself: its status and headers are the answer.
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        resolve({ status: res.statusCode!, headers: res.headers, body: '' });
        req.destroy();
        return;
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    // A refusal before the body (401, 429) closes the connection while a large body is still
    // being written: the answer has arrived by then, and the write's reset is not an outcome.
    req.on('error', (error) => reject(error));
    req.end(body);
  });
}

export interface Spelling {
  target: string;
  /** How the path was respelled; `plain` is the canonical spelling. */
  kinds: SpellingKind[];
  /** Whether the router still finds the canonical route (percent-encoding, absolute form) or no route (repeated slashes, dot segments). */
  routable: boolean;
}
export type SpellingKind = 'percent-encoded' | 'absolute-form' | 'repeated-slash' | 'dot-segment' | 'dot-dot-segment';

const percent = (char: string, lower: boolean) => {
  const hex = char.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${lower ? hex : hex.toUpperCase()}`;
};

/**
 * Generated spellings of an API path: any character of its prefix (`/api/v1/<resource>`, the part
 * the edge used to read from the raw URL) percent-encoded in either case, the absolute form, and
 * a repeated slash, `.` or `x/..` segment at any of the prefix's slashes. The slashes themselves
 * stay: an encoded `/` is another path's spelling, not this one's.
 */
export function spellingOf(path: string, host: string): fc.Arbitrary<Spelling> {
  const [pathname, query] = path.split(/\?(.*)/s);
  const prefixEnd = pathname.indexOf('/', '/api/v1/'.length);
  const prefix = prefixEnd < 0 ? pathname : pathname.slice(0, prefixEnd);
  const rest = prefixEnd < 0 ? '' : pathname.slice(prefixEnd);
  const slashes = [...prefix].flatMap((char, i) => (char === '/' ? [i] : []));
  return fc
    .record({
      encode: fc.array(fc.boolean(), { minLength: prefix.length, maxLength: prefix.length }),
      lower: fc.boolean(),
      absolute: fc.boolean(),
      noise: fc.constantFrom<SpellingKind | 'none'>('none', 'none', 'repeated-slash', 'dot-segment', 'dot-dot-segment'),
      at: fc.constantFrom(...slashes),
    })
    .map(({ encode, lower, absolute, noise, at }) => {
      const kinds: SpellingKind[] = [];
      let spelled = '';
      for (let i = 0; i < prefix.length; i++) {
        const char = prefix[i];
        if (i === at && noise !== 'none') spelled += noise === 'repeated-slash' ? '//' : noise === 'dot-segment' ? '/./' : '/x/../';
        else if (char !== '/' && encode[i]) spelled += percent(char, lower);
        else spelled += char;
      }
      if (encode.some((on, i) => on && prefix[i] !== '/' && !(i === at && noise !== 'none'))) kinds.push('percent-encoded');
      if (absolute) kinds.push('absolute-form');
      if (noise !== 'none') kinds.push(noise);
      const target = `${absolute ? `http://${host}` : ''}${spelled}${rest}${query !== undefined ? `?${query}` : ''}`;
      return { target, kinds, routable: noise === 'none' };
    });
}
