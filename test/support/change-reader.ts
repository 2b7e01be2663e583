import { ClientRequest, IncomingMessage, request } from 'node:http';
import { EventStreamParser, ServerSentEvent } from '../../src/client/server-sent-events';
import type { ChangeNotification } from '../../src/contract/change-notification';

/**
 * A reader of `GET /api/v1/changes` over plain Node http, keeping every raw byte it received
 * (for the plaintext scans) and every event, and able to stop reading (backpressure tests).
 */
export interface ChangeReader {
  status: number;
  headers: IncomingMessage['headers'];
  events: ServerSentEvent[];
  /** The `change` events' data, parsed. */
  changes(): ChangeNotification[];
  raw(): Buffer;
  /** Resolves when the server ends or drops the stream. */
  closed: Promise<void>;
  pause(): void;
  resume(): void;
  close(): void;
  lastEventId(): string | undefined;
}

export function openChangeReader(baseUrl: string, token: string, options: { query?: string; lastEventId?: string } = {}): Promise<ChangeReader> {
  const url = new URL(`/api/v1/changes${options.query ? `?${options.query}` : ''}`, baseUrl);
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const events: ServerSentEvent[] = [];
      const parser = new EventStreamParser((event) => events.push(event));
      let closedResolve!: () => void;
      const closed = new Promise<void>((done) => (closedResolve = done));
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        parser.push(chunk.toString('utf8'));
      });
      res.on('error', () => undefined);
      res.on('close', () => closedResolve());
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        changes: () => events.filter((e) => e.event === 'change').map((e) => JSON.parse(e.data) as ChangeNotification),
        raw: () => Buffer.concat(chunks),
        closed,
        pause: () => res.pause(),
        resume: () => res.resume(),
        close: () => req.destroy(),
        lastEventId: () => parser.lastEventId,
      });
    });
    req.on('error', reject);
    req.end();
  });
}
