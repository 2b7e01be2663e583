import Database from 'better-sqlite3';
import { rebuildReadModel } from '../../src/secrets/read-model-rebuild';
import { openLedger, seedSecrets } from '../lib/ledger';
import { median, percentile, progress, round } from '../lib/report';
import { ServiceProcess, api } from '../lib/service-process';

export const SEEDED_KEYS = 10_000;

const REPLAY_ROUNDS = 3;

/**
 * Seeds `events` secret events over 10k keys, then rebuilds the read model from the log, three
 * times, each beside its floor: raw better-sqlite3 reading every row of the same log and doing
 * nothing with it. Rounds alternate so that the machine's noise falls on both; medians reported.
 */
export async function seedAndReplay(databasePath: string, masterKeys: string, events: number) {
  const ledger = await openLedger(databasePath, masterKeys);
  const ours: number[] = [];
  const floor: number[] = [];
  try {
    progress(`replay: seeding ${events} events over ${SEEDED_KEYS} keys`);
    await seedSecrets(ledger, events, SEEDED_KEYS);
    for (let pass = 1; pass <= REPLAY_ROUNDS; pass++) {
      const started = performance.now();
      const result = await rebuildReadModel(ledger.storage, ledger.store, ledger.readModel);
      const seconds = (performance.now() - started) / 1000;
      if (result.events !== events || result.secrets !== SEEDED_KEYS) throw new Error(`replay: rebuilt ${JSON.stringify(result)}`);
      ours.push(events / seconds);
      floor.push(readWholeLog(databasePath));
      progress(`replay ${pass}/${REPLAY_ROUNDS}: ${events} events in ${seconds.toFixed(2)}s → ${ours[ours.length - 1].toFixed(0)}/s (floor ${floor[floor.length - 1].toFixed(0)} rows/s)`);
    }
  } finally {
    await ledger.close();
  }
  const perS = median(ours);
  const floorPerS = median(floor);
  return { events, events_per_s: round(perS, 0), floor_events_per_s: round(floorPerS, 0), ratio: round(perS / floorPerS) };
}

/** The floor of a replay: rows per second at which bare better-sqlite3 reads the whole log. */
function readWholeLog(databasePath: string): number {
  const db = new Database(databasePath, { readonly: true });
  try {
    const started = performance.now();
    let rows = 0;
    for (const _row of db.prepare('SELECT * FROM events ORDER BY seq').raw(true).iterate()) rows += 1;
    return rows / ((performance.now() - started) / 1000);
  } finally {
    db.close();
  }
}

/** p95 of filtered first-page queries (by key, by actor, by time range) over HTTP. */
export async function measureAuditQueries(service: ServiceProcess, adminToken: string, events: number, rounds: number) {
  const latencies: number[] = [];
  const byFilter = new Map<string, number[]>();
  // A window over the seeded events: from a minute before the head to just after it.
  const head = (await (await api(service.url, adminToken, '/api/v1/audit/head')).json()) as { at: string };
  const to = new Date(new Date(head.at).getTime() + 1);
  const from = new Date(to.getTime() - 60_000);
  const queries = (i: number) => [
    `/api/v1/audit?key=SEED_${(i * 7919) % SEEDED_KEYS}&limit=100`,
    `/api/v1/audit?actor=system&limit=100`,
    `/api/v1/audit?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&limit=100`,
    `/api/v1/audit?type=SecretAdded&limit=100`,
  ];
  progress(`audit_query: ${rounds} rounds of 4 filtered first-page queries on ${events} events`);
  for (let i = 0; i < rounds; i++) {
    for (const path of queries(i)) {
      const started = performance.now();
      const res = await api(service.url, adminToken, path);
      const body = (await res.json()) as { items: unknown[] };
      const elapsed = performance.now() - started;
      latencies.push(elapsed);
      const filter = path.replace(/^.*\?/, '').replace(/=[^&]*/g, '');
      byFilter.set(filter, [...(byFilter.get(filter) ?? []), elapsed]);
      if (!res.ok || body.items.length === 0) throw new Error(`audit_query: ${path} → ${res.status}, ${body.items?.length} items`);
    }
  }
  const p95 = percentile(latencies, 95);
  byFilter.forEach((samples, filter) => progress(`  ${filter}: p95 ${percentile(samples, 95).toFixed(2)} ms`));
  progress(`audit_query: p95 ${p95.toFixed(2)} ms`);
  return { events, p95_ms: round(p95) };
}
