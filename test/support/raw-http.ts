import { connect, Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection after answering. */
  closed: boolean;
}

/** Parses the first response in `text` (HTTP/1.1, Content-Length bodies). */
export function parseRawResponse(text: string, closed: boolean): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? text.length - end - 4);
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4, end + 4 + length), closed };
}

/**
 * Sends bytes exactly as given (what fetch would refuse to send: a bad request line, a bad
 * percent-encoding) and resolves with the response once the server has answered and closed, or
 * `waitMs` has passed.
 */
export function rawRequest(baseUrl: string, bytes: string | Buffer, waitMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), hostname);
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      if (!text.includes('\r\n\r\n')) return reject(new Error(`no response (closed: ${closed})`));
      resolve(parseRawResponse(text, closed));
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (chunk) => (text += chunk.toString('utf8')));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}
