import { readFileSync } from 'node:fs';
import { Authenticator, ConnectionOptions, NatsConnection, connect, credsAuthenticator, nkeyAuthenticator } from 'nats';
import { redactUrl } from '../common/redact-url';
import { NatsOptions, natsServers, withUrlCredentials } from './nats-options';
import { retryDelay } from '../common/retry-delay';

/**
 * The one place that speaks to the `nats` package. The service and the SDK both use it, so a
 * move to `@nats-io/transport-node` touches this file only. Plain TypeScript: no Nest, so the
 * SDK can import it without loading the framework.
 *
 * Every message is plain JSON (SPEC §4): readable by any NATS client in any language.
 */
export type LinkStatus = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface JsonMessage {
  subject: string;
  /** The parsed JSON, or undefined when the payload was not JSON: anyone may publish. */
  data: unknown;
}

interface SubscriptionSpec {
  subject: string;
  handle: (message: JsonMessage) => void | Promise<void>;
}

/**
 * A NATS connection that never blocks its owner and never gives up: `start()` returns at once
 * and keeps trying in the background, because the service must start and serve writes while
 * NATS is unreachable or refuses us (SPEC §7), and must pick up by itself when that is fixed.
 * Three ways the `nats` package could end a link, each closed here:
 * - the first `connect()` fails (unreachable, refused): we try again, with backoff (retryDelay);
 * - a reconnect is refused twice in a row with the same auth error: the package would abort
 *   (`ignoreAuthErrorAbort`), so we tell it not to, and give it our backoff;
 * - the connection closes anyway (any other reason): we drop it and start over as at first,
 *   subscriptions included.
 * (`waitOnFirstConnect` would do the first part too, but its pending connect cannot be
 * cancelled, so a process shut down during an outage would never exit.)
 */
export class NatsLink {
  private connection: NatsConnection | undefined;
  private status: LinkStatus = 'connecting';
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly specs: SubscriptionSpec[] = [];
  private readonly listeners: ((status: LinkStatus, reconnected: boolean) => void)[] = [];
  private readonly errorListeners: ((problem: string) => void)[] = [];
  private problem: string | undefined;
  /** Since when we have been unable to connect (undefined while connected): drives the backoff. */
  private downSince: number | undefined = Date.now();
  private connectedBefore = false;
  private readonly options: NatsOptions;

  /** `options.url` may carry credentials: they move into the options here (withUrlCredentials). */
  constructor(
    options: NatsOptions,
    private readonly name: string,
  ) {
    const resolved = withUrlCredentials(options);
    if (resolved.problems.length > 0) throw new Error(resolved.problems.join('; '));
    this.options = resolved.options;
  }

  /** The servers, without credentials: fit for a log line. */
  get where(): string {
    return redactUrl(this.options.url);
  }

  get connected(): boolean {
    return this.status === 'connected';
  }

  get state(): LinkStatus {
    return this.status;
  }

  /**
   * Why the last attempt to connect failed, in words fit for a log or /health/ready: the
   * server's refusal (`Authorization Violation`), a TLS failure, an unreachable address.
   * Undefined while connected.
   */
  get lastError(): string | undefined {
    return this.problem;
  }

  /** Called when the reason for not being connected changes (not on every retry). */
  onError(listener: (problem: string) => void): void {
    this.errorListeners.push(listener);
  }

  /** Called on every status change; `reconnected` is true when a link that was down is back. */
  onStatus(listener: (status: LinkStatus, reconnected: boolean) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    void this.attempt();
  }

  /** Subscribes now if connected, and on the first connection otherwise. JSON in, JSON out. */
  subscribe(subject: string, handle: SubscriptionSpec['handle']): void {
    const spec = { subject, handle };
    this.specs.push(spec);
    if (this.connection) this.applySubscription(this.connection, spec);
  }

  /** Queues a JSON message; it is on the server once `flush()` resolves. Throws when not connected. */
  publish(subject: string, data: unknown): void {
    this.requireConnection().publish(subject, encode(data));
  }

  /**
   * Resolves once the server has everything published so far. Bounded: while NATS is away a
   * flush would wait for the reconnect, and a caller shutting down must not wait forever.
   */
  async flush(timeoutMs = 2_000): Promise<void> {
    await withTimeout(this.requireConnection().flush(), timeoutMs, 'NATS flush');
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const wasConnected = this.connected;
    const connection = this.connection;
    this.connection = undefined;
    this.setStatus('closed', false);
    if (!connection || connection.isClosed()) return;
    // Drain (let in-flight handlers reply) only while connected and only briefly: during an
    // outage a drain would wait for the server, and shutting down must not.
    if (wasConnected) await withTimeout(connection.drain(), 2_000, 'NATS drain').catch(() => undefined);
    if (!connection.isClosed()) await connection.close();
  }

  private requireConnection(): NatsConnection {
    // No URL in the message: it may carry credentials, and this text reaches logs.
    if (!this.connection || !this.connected) throw new Error('NATS is not connected');
    return this.connection;
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    try {
      const connection = await connect(this.connectionOptions());
      if (this.stopped) return void connection.close();
      this.connection = connection;
      this.problem = undefined;
      this.downSince = undefined;
      this.specs.forEach((spec) => this.applySubscription(connection, spec));
      void this.watch(connection);
      void this.restartWhenClosed(connection);
      this.setStatus('connected', this.connectedBefore);
      this.connectedBefore = true;
    } catch (error) {
      this.report(describeFailure(error, this.options.url));
      this.setStatus('connecting', false);
      this.scheduleAttempt();
    }
  }

  /** Unreachable or refused: try again after the backoff. The timer must not keep a process alive. */
  private scheduleAttempt(): void {
    if (this.stopped) return;
    this.downSince ??= Date.now();
    this.retry = setTimeout(() => void this.attempt(), retryDelay(Date.now() - this.downSince));
    this.retry.unref();
  }

  private async watch(connection: NatsConnection): Promise<void> {
    for await (const event of connection.status()) {
      if (connection !== this.connection) return;
      if (event.type === 'disconnect') {
        this.downSince ??= Date.now();
        // Readiness says so at once, unless the server said why (a refusal comes before the
        // disconnect it causes); the listeners hear of it through the status, not twice.
        this.problem ??= `NATS at ${this.where}: connection lost, reconnecting`;
        this.setStatus('disconnected', false);
      }
      if (event.type === 'reconnect') {
        this.problem = undefined;
        this.downSince = undefined;
        this.setStatus('connected', true);
      }
      // A refusal of a reconnect, or a server that revokes our permissions or credentials
      // while connected, says so here.
      if (event.type === 'error') this.report(describeFailure(event.data, this.options.url));
    }
  }

  /** A connection the package closed for good is replaced: the link itself never ends. */
  private async restartWhenClosed(connection: NatsConnection): Promise<void> {
    const error = await connection.closed();
    if (this.stopped || connection !== this.connection) return;
    this.connection = undefined;
    if (error) this.report(describeFailure(error, this.options.url));
    this.setStatus('connecting', false);
    this.scheduleAttempt();
  }

  private connectionOptions(): ConnectionOptions {
    return connectionOptions(this.options, this.name, () => retryDelay(Date.now() - (this.downSince ?? Date.now())));
  }

  private applySubscription(connection: NatsConnection, spec: SubscriptionSpec): void {
    connection.subscribe(spec.subject, {
      callback: (error, message) => {
        if (error) return;
        let data: unknown;
        try {
          data = decode(message.data);
        } catch {
          data = undefined;
        }
        void Promise.resolve(spec.handle({ subject: message.subject, data })).catch(() => undefined);
      },
    });
  }

  private report(problem: string): void {
    if (problem === this.problem) return;
    this.problem = problem;
    this.errorListeners.forEach((listener) => listener(problem));
  }

  private setStatus(status: LinkStatus, reconnected: boolean): void {
    if (this.status === status && !reconnected) return;
    this.status = status;
    this.listeners.forEach((listener) => listener(status, reconnected));
  }
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function encode(data: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(data), 'utf8');
}

function decode(bytes: Uint8Array): unknown {
  return JSON.parse(Buffer.from(bytes).toString('utf8'));
}

/** The `nats` package's options for ours; credential files are read at each attempt (rotation). */
function connectionOptions(options: NatsOptions, name: string, reconnectDelay: () => number): ConnectionOptions {
  const authenticators: Authenticator[] = [];
  if (options.nkeySeedFile) authenticators.push(nkeyAuthenticator(new Uint8Array(readFileSync(options.nkeySeedFile))));
  if (options.credsFile) authenticators.push(credsAuthenticator(new Uint8Array(readFileSync(options.credsFile))));
  return {
    servers: natsServers(options.url),
    name,
    // Reconnect for ever, with our backoff, and never abort on a repeated auth error: a refusal
    // is fixed server-side (a config reload) while we keep trying.
    reconnect: true,
    maxReconnectAttempts: -1,
    ignoreAuthErrorAbort: true,
    reconnectDelayHandler: reconnectDelay,
    ...(options.user !== undefined ? { user: options.user, pass: options.password } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(authenticators.length > 0 ? { authenticator: authenticators } : {}),
    // A tls:// URL asks for TLS with the system's CAs; a CA file or a client certificate too.
    ...(options.tls || natsServers(options.url).some((server) => server.startsWith('tls://')) ? { tls: { ...options.tls } } : {}),
  };
}

/**
 * Why connecting failed, without the URL's credentials or anything else the caller passed: the
 * `nats` package's error codes and messages name the server's refusal, never our secrets.
 */
function describeFailure(error: unknown, url: string): string {
  const where = redactUrl(url);
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'AUTHORIZATION_VIOLATION' || /authorization/i.test(message)) return `NATS at ${where} refused our credentials (Authorization Violation)`;
  if (code === 'AUTHENTICATION_EXPIRED' || /authentication.expired/i.test(message)) return `NATS at ${where} refused our credentials (Authentication Expired)`;
  if (code === 'CONNECTION_REFUSED' || /ECONNREFUSED/.test(message)) return `NATS at ${where} is unreachable (connection refused)`;
  if (/tls|certificate|self.signed|SSL/i.test(message)) return `NATS at ${where}: TLS failed (${message.split('\n')[0].slice(0, 200)})`;
  return `NATS at ${where}: ${String(code ?? message).split('\n')[0].slice(0, 200)}`;
}
