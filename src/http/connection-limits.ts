import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { AuthenticatedRequest } from '../auth/bearer';
import type { HttpLimits } from '../config/configuration';
import { answerClientError } from './client-errors';

export type ConnectionLimits = Pick<HttpLimits, 'maxConnections' | 'maxConnectionsPerAddress' | 'unauthenticatedIdleMs' | 'keepAliveTimeoutMs'>;

/** The groups of an IPv6 address written out, `::` expanded (an embedded IPv4 counts as two). */
function ipv6Groups(address: string): string[] {
  const parts = (text: string) => (text === '' ? [] : text.split(':').flatMap((part) => (part.includes('.') ? ['0', '0'] : [part])));
  const [head, tail] = address.split('::');
  if (tail === undefined) return parts(head);
  const known = [...parts(head), ...parts(tail)];
  return [...parts(head), ...Array<string>(Math.max(0, 8 - known.length)).fill('0'), ...parts(tail)];
}

/**
 * Who a connection is counted against. IPv4 by its address (an IPv4-mapped IPv6 address too, as
 * a dual-stack listener reports it); IPv6 by its /64, the block one host is usually given: it
 * could otherwise open each connection from another address of its own.
 */
export function clientOf(remoteAddress: string | undefined): string {
  const address = (remoteAddress ?? 'unknown').replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const prefix = ipv6Groups(address)
    .slice(0, 4)
    .map((group) => Number.parseInt(group || '0', 16).toString(16));
  return `${prefix.join(':')}::/64`;
}

/** What is known of one open connection. */
interface Connection {
  socket: Socket;
  /** Requests whose headers arrived and whose answer is not finished. */
  inFlight: number;
  /** Whether its last request carried an accepted token. */
  authenticated: boolean;
  idleTimer?: NodeJS.Timeout;
  /** The socket's bytesRead when it went idle: more when the timer fires means a request began. */
  bytesAtIdle: number;
}

const REFUSAL_LOG_INTERVAL_MS = 60_000;

/**
 * Connections closed over a client's share, told to the operator (behind a proxy whose address
 * every connection shares, a share set too low looks exactly like this): one warning a minute
 * at most, naming the last client and counting the rest, so that a flood cannot flood the log.
 */
class RefusalLog {
  private lastAt = Number.NEGATIVE_INFINITY;
  private since = 0;

  constructor(
    private readonly fastify: FastifyInstance,
    private readonly share: number,
  ) {}

  note(client: string): void {
    this.since += 1;
    const now = Date.now();
    if (now - this.lastAt < REFUSAL_LOG_INTERVAL_MS) return;
    this.fastify.log.warn(
      { client, closed: this.since, share: this.share },
      `connections over their client's share closed (${this.since} since the last such line, the last from ${client}); behind a proxy, raise SECRETS_MAX_CONNECTIONS_PER_ADDRESS`,
    );
    this.lastAt = now;
    this.since = 0;
  }
}

/**
 * The HTTP edge's connection accounting (SPEC §3), so that one client cannot hold the slots
 * everybody shares:
 *
 * - the global cap (`maxConnections`): past it, Node closes a new connection at once;
 * - a share per client (`maxConnectionsPerAddress`): a connection over its client's share is
 *   closed at once, before a byte is read, and a warning logged (one a minute). No answer is
 *   attempted: reading a request to answer it 503 would hold the very slot being refused for as
 *   long as the client cares to send, and a client over its share already holds that many
 *   connections it can use;
 * - an idle connection that has carried no authenticated request (none yet, or the last one had
 *   no accepted token: a public route, a refusal) is closed after `unauthenticatedIdleMs`; on
 *   such a connection a request must have sent its headers within that time (408 otherwise);
 * - a connection whose last request was authenticated stays open between requests for
 *   `keepAliveTimeoutMs` (Node's keep-alive timeout).
 *
 * Connections are found by remote address and port, which the raw TCP socket and, under HTTPS,
 * the TLS socket that wraps it have in common.
 */
export function limitConnections(server: Server, fastify: FastifyInstance, limits: ConnectionLimits): void {
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  const perClient = new Map<string, number>();
  const open = new Map<string, Connection>();
  const keyOf = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  const refusals = new RefusalLog(fastify, limits.maxConnectionsPerAddress);

  const closeWhenIdle = (connection: Connection) => {
    clearTimeout(connection.idleTimer);
    connection.idleTimer = undefined;
    if (connection.inFlight > 0 || connection.authenticated) return;
    connection.bytesAtIdle = connection.socket.bytesRead;
    connection.idleTimer = setTimeout(() => closeIdle(connection), limits.unauthenticatedIdleMs);
    connection.idleTimer.unref();
  };
  // A request that began and did not send its headers in time is answered 408, as Node answers
  // one past the headers timeout. A connection that sent nothing since its last answer has no
  // request to answer: it is closed as a keep-alive connection is. (Under HTTPS the raw socket
  // carries TLS records, not HTTP: closed either way.)
  const answersInClear = !(server instanceof TlsServer);
  const closeIdle = (connection: Connection) => {
    const { socket } = connection;
    if (answersInClear && socket.bytesRead > connection.bytesAtIdle) answerClientError(Object.assign(new Error('request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket);
    else socket.destroy();
  };

  server.on('connection', (socket: Socket) => {
    const client = clientOf(socket.remoteAddress);
    const held = perClient.get(client) ?? 0;
    if (held >= limits.maxConnectionsPerAddress) {
      socket.destroy();
      refusals.note(client);
      return;
    }
    perClient.set(client, held + 1);
    const key = keyOf(socket);
    const connection: Connection = { socket, inFlight: 0, authenticated: false, bytesAtIdle: 0 };
    open.set(key, connection);
    socket.once('close', () => {
      clearTimeout(connection.idleTimer);
      open.delete(key);
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
    closeWhenIdle(connection);
  });

  // Before Fastify's own listener: the request is counted before any hook of it can answer.
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    const connection = open.get(keyOf(request.socket));
    if (!connection) return;
    connection.inFlight += 1;
    connection.authenticated = false;
    clearTimeout(connection.idleTimer);
    response.once('close', () => {
      connection.inFlight -= 1;
      closeWhenIdle(connection);
    });
  });

  // onSend runs for every answer Fastify gives, after authentication had its say.
  fastify.addHook('onSend', async (request: AuthenticatedRequest, _reply, payload) => {
    if (request.principal) {
      const connection = open.get(keyOf(request.raw.socket));
      if (connection) connection.authenticated = true;
    }
    return payload;
  });
}
