import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Where the gauges read their current values from at each scrape. */
export interface MetricSources {
  notificationLag: () => Promise<number>;
  relayPosition: () => number;
  chain: () => { ok: boolean; verifiedSeq: number };
  /** State outside the chain found to disagree with it: values that would not open, token rows refused. */
  integrity: () => { unreadableValues: number; rejectedTokens: number };
  /** Checkpoints in the log the sink does not hold yet. */
  checkpointsPending: () => Promise<number>;
  /** Active secrets past their expiry, and those within the warning window. */
  expiry: () => Promise<{ expired: number; expiring: number }>;
  /** Consumers holding an old version more than a minute after a change. */
  staleConsumers: () => Promise<number>;
  /** Change streams open on this instance, value-free and in values mode. */
  changeStreams: () => { notifications: number; values: number };
}

/**
 * Every metric the service exports (docs/OPERATING.md, "Health, readiness and metrics"), in one registry. Labels are closed
 * sets — route patterns, methods, status codes, outcomes — never a key, a value, a token or a
 * raw URL (a URL names the secret), so a scrape tells an operator how the service does, never
 * what it holds.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'secrets_ledger_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'secrets_ledger_http_request_duration_seconds',
    help: 'Time from request to response, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly refusedRequests = new Counter({
    name: 'secrets_ledger_refused_requests_total',
    help: 'Requests refused for their token: unauthenticated (401) or forbidden (403)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly rateLimitedRequests = new Counter({
    name: 'secrets_ledger_rate_limited_requests_total',
    help: 'Requests answered 429 (over a rate limit)',
    registers: [this.registry],
  });

  readonly resolves = new Counter({
    name: 'secrets_ledger_resolves_total',
    help: 'Resolve requests by outcome: answered (200), refused (401/403), invalid (other 4xx), failed (5xx)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly writerBatchJobs = new Histogram({
    name: 'secrets_ledger_writer_batch_jobs',
    help: 'Write jobs per committed batch (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });

  readonly writerBatchSeconds = new Histogram({
    name: 'secrets_ledger_writer_batch_duration_seconds',
    help: "A batch's write transaction, its durable commit (fsync) included",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly writerFailedBatches = new Counter({
    name: 'secrets_ledger_writer_failed_batches_total',
    help: 'Batches whose commit failed (disk full, I/O error): none of their jobs was stored',
    registers: [this.registry],
  });

  readonly notificationsPublished = new Counter({
    name: 'secrets_ledger_notifications_published_total',
    help: 'Change notifications published to NATS (at least once: a republished one counts again)',
    registers: [this.registry],
  });

  readonly notificationDelay = new Histogram({
    name: 'secrets_ledger_notification_delay_seconds',
    help: "From an event's commit time to its notification being flushed to NATS",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
    registers: [this.registry],
  });

  readonly checkpointSinkFailures = new Counter({
    name: 'secrets_ledger_checkpoint_sink_failures_total',
    help: 'Deliveries of a checkpoint to the sink that failed (each is retried)',
    registers: [this.registry],
  });

  constructor(sources: MetricSources) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'secrets_ledger_notification_lag_events',
      help: 'Secret events committed but not yet published to NATS',
      registers: [this.registry],
      async collect() {
        this.set(await sources.notificationLag());
      },
    });
    new Gauge({
      name: 'secrets_ledger_relay_position_seq',
      help: 'The seq of the last event the notification relay handed to NATS',
      registers: [this.registry],
      collect() {
        this.set(sources.relayPosition());
      },
    });
    new Gauge({
      name: 'secrets_ledger_audit_chain_ok',
      help: '1 while every verified row of the hash chain holds, 0 once a break is found',
      registers: [this.registry],
      collect() {
        this.set(sources.chain().ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'secrets_ledger_audit_chain_verified_seq',
      help: 'The last seq the running service has verified in the hash chain',
      registers: [this.registry],
      collect() {
        this.set(sources.chain().verifiedSeq);
      },
    });
    new Gauge({
      name: 'secrets_ledger_checkpoint_sink_pending',
      help: 'Signed checkpoints in the log that the sink does not hold yet',
      registers: [this.registry],
      async collect() {
        this.set(await sources.checkpointsPending());
      },
    });
    new Gauge({
      name: 'secrets_ledger_integrity_failures',
      help: 'Stored state found not to match the log since start: unreadable values, token rows refused',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        const { unreadableValues, rejectedTokens } = sources.integrity();
        this.set({ kind: 'unreadable_value' }, unreadableValues);
        this.set({ kind: 'rejected_token' }, rejectedTokens);
      },
    });
    new Gauge({
      name: 'secrets_ledger_secrets_expiry',
      help: 'Active secrets whose expiry has passed (expired) or falls within SECRETS_EXPIRY_WARNING_DAYS (expiring)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const { expired, expiring } = await sources.expiry();
        this.set({ state: 'expired' }, expired);
        this.set({ state: 'expiring' }, expiring);
      },
    });
    new Gauge({
      name: 'secrets_ledger_change_streams_open',
      help: 'GET /api/v1/changes streams this instance holds open, value-free (notifications) and in values mode (values)',
      labelNames: ['mode'] as const,
      registers: [this.registry],
      collect() {
        const { notifications, values } = sources.changeStreams();
        this.set({ mode: 'notifications' }, notifications);
        this.set({ mode: 'values' }, values);
      },
    });
    new Gauge({
      name: 'secrets_ledger_stale_consumers',
      help: "Tokens (per plugin and key) whose last resolve returned an old version more than a minute after the key's value changed",
      registers: [this.registry],
      async collect() {
        this.set(await sources.staleConsumers());
      },
    });
  }

  /** One answered HTTP request; `route` is the matched pattern (or `unmatched`), never the URL. */
  requestAnswered(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
    if (status === 401) this.refusedRequests.inc({ reason: 'unauthenticated' });
    if (status === 403) this.refusedRequests.inc({ reason: 'forbidden' });
    if (status === 429) this.rateLimitedRequests.inc();
    if (route === RESOLVE_ROUTE && method === 'POST') this.resolves.inc({ outcome: resolveOutcome(status) });
  }
}

export const RESOLVE_ROUTE = '/api/v1/resolve';

function resolveOutcome(status: number): string {
  if (status < 300) return 'answered';
  if (status === 401 || status === 403) return 'refused';
  if (status < 500) return 'invalid';
  return 'failed';
}
