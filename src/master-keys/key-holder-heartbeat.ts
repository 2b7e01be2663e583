import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { MasterKeyring } from '../crypto/master-keyring';
import { ReadinessCheck, ReadinessIndicator } from '../health/readiness';
import { STORAGE, Storage } from '../storage/sql';
import { HEARTBEAT_INTERVAL_MS, HOLDER_TTL_MS, KeyHolder, describeHolder, keyHolders, lacking } from './key-holders';
import { kidsWrappingDataKeys } from './wrapping-kids';

/** Longest a graceful stop waits to delete its row (a dead database must not hold up the stop). */
const WITHDRAW_TIMEOUT_MS = 2_000;

/**
 * This instance's row in `master_key_holders` and what follows from everyone else's (SPEC §8):
 *
 * - at start, before any request: refuses to start when the keyring lacks a key id that wraps
 *   stored data keys (every value under it would be unreadable here); then announces itself;
 * - on every heartbeat (PostgreSQL: several instances): renews its row and re-reads the others';
 * - on every wrap (through the keyring's guard): refuses while another live instance lacks the
 *   key this one wraps with, so no value is ever stored that some instance cannot open; the same
 *   reason turns `masterKeys` in /health/ready down;
 * - at a graceful stop: deletes its row (a killed instance's row expires after HOLDER_TTL_MS).
 */
@Injectable()
@ReadinessCheck()
export class KeyHolderHeartbeat implements OnModuleInit, BeforeApplicationShutdown, ReadinessIndicator {
  private readonly logger = new Logger('MasterKeys');
  readonly instance = randomUUID();
  private readonly startedAt = new Date().toISOString();
  /** The other live instances, as of the last heartbeat. */
  private others: KeyHolder[] = [];
  private lastBeat = 0;
  private beatFailing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly keyring: MasterKeyring,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refuseIfKeysMissing();
    await this.beat();
    const held = this.keyring.kids();
    if (this.others.some((other) => !held.includes(other.activeKid))) {
      // Another instance wraps with a key this one lacks, and has not seen this one yet: it may
      // wrap values under that key until its next heartbeat. Wait that long, then look again.
      await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_INTERVAL_MS + 1_000));
      await this.refuseIfKeysMissing().catch(async (error: unknown) => {
        await this.withdraw();
        throw error;
      });
    }
    this.keyring.guardWrapping(() => this.wrapRefusal());
    // On SQLite this is the only service of its data dir (SPEC §8): nobody else reads its row
    // while it runs (the offline CLI refuses beside it, and a rotation through it skips its own),
    // so renewing it would only sync the disk every heartbeat. Only PostgreSQL has others.
    if (this.storage.dialect.engine !== 'postgres') return;
    this.timer = setInterval(() => void this.beat().catch((error: unknown) => this.beatFailed(error)), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.withdraw();
  }

  /** Renews this instance's row (with the keyring as it is now) and re-reads the others'. */
  async beat(): Promise<void> {
    const now = Date.now();
    this.others = await this.storage.transact(async (tx) => {
      // One service per SQLite data dir (SPEC §8): any other row is a dead predecessor's.
      if (tx.dialect.engine === 'sqlite') await keyHolders.forgetOthers(tx, this.instance);
      await keyHolders.announce(tx, this.self(), now);
      return keyHolders.live(tx, this.instance, now);
    });
    this.lastBeat = now;
    if (this.beatFailing) this.logger.log('the master-key heartbeat is renewed again');
    this.beatFailing = false;
  }

  check(indicators: HealthIndicatorService) {
    const indicator = indicators.check('masterKeys');
    const details = { instance: this.instance, activeKid: this.keyring.activeKid, heldKids: this.keyring.kids(), otherInstances: this.others.length };
    const refusal = this.wrapRefusal();
    return refusal === undefined ? indicator.up(details) : indicator.down({ ...details, reason: refusal });
  }

  /** Why this instance may not wrap new values now, or undefined. */
  private wrapRefusal(): string | undefined {
    // Its row may have expired: a rotation would then not count it. Only PostgreSQL has others.
    if (this.storage.dialect.engine === 'postgres' && Date.now() - this.lastBeat > HOLDER_TTL_MS - HEARTBEAT_INTERVAL_MS) {
      return 'this instance could not renew its master-key heartbeat lately, so the other instances may count it as gone';
    }
    const kid = this.keyring.activeKid;
    const without = lacking(this.others, kid);
    if (without.length === 0) return undefined;
    return `${without.map(describeHolder).join(', ')} does not hold master key ${kid}, which this instance wraps new values with`;
  }

  private self(): KeyHolder {
    return { instance: this.instance, host: hostname(), pid: process.pid, activeKid: this.keyring.activeKid, heldKids: this.keyring.kids(), startedAt: this.startedAt };
  }

  /**
   * Refuses to start when a key id that wraps stored data keys is missing from the keyring, or
   * is there with another key (a new key under an old id): every value under it would be
   * unreadable here, and the first sign would otherwise be a resolve.
   */
  private async refuseIfKeysMissing(): Promise<void> {
    const held = this.keyring.kids();
    const wrapping = await kidsWrappingDataKeys(this.storage.reader);
    const missing = wrapping.filter((kid) => !held.includes(kid));
    const wrong: string[] = [];
    for (const kid of wrapping.filter((kid) => held.includes(kid))) {
      if (!(await this.opensAnyOf(kid))) wrong.push(kid);
    }
    if (missing.length === 0 && wrong.length === 0) return;
    const source = this.keyring.devKeyFile ? `the development key file ${this.keyring.devKeyFile}` : 'SECRETS_MASTER_KEYS';
    const problems = [
      ...(missing.length > 0 ? [`stored values are wrapped by master key id${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${source} lacks`] : []),
      ...(wrong.length > 0 ? [`the key${wrong.length > 1 ? 's' : ''} ${source} gives for ${wrong.join(', ')} open${wrong.length > 1 ? '' : 's'} none of the stored values wrapped under that id`] : []),
    ];
    throw new Error(`refusing to start: ${problems.join('; ')}; SECRETS_MASTER_KEYS must hold every key id that wraps stored values, with its key (docs/MASTER-KEYS.md)`);
  }

  /**
   * Whether this keyring's `kid` unwraps any of a few data keys stored under it: a few, so that
   * one damaged row is an unreadable value (reported when asked for), not a refused start.
   */
  private async opensAnyOf(kid: string): Promise<boolean> {
    const rows = await this.storage.reader.all<{ event_id: string; wrapped: Buffer }>('SELECT event_id, wrapped FROM data_keys WHERE kid = ? LIMIT 3', [kid]);
    return rows.some((row) => {
      try {
        this.keyring.unwrap(kid, row.wrapped, row.event_id).fill(0);
        return true;
      } catch {
        return false;
      }
    });
  }

  private beatFailed(error: unknown): void {
    if (this.beatFailing) return;
    this.beatFailing = true;
    this.logger.warn(`the master-key heartbeat could not be renewed (${error instanceof Error ? error.message : String(error)}); retrying every ${HEARTBEAT_INTERVAL_MS} ms`);
  }

  private async withdraw(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, WITHDRAW_TIMEOUT_MS)));
    await Promise.race([this.storage.transact((tx) => keyHolders.withdraw(tx, this.instance)).catch(() => undefined), timeout]);
    clearTimeout(timer);
  }
}
