import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/configuration';
import { NodeTransport } from '../client/node-transport';
import { serviceToken, serviceUrl } from '../client/service-address';
import { ApiClient, ApiError } from '../contract/api-client';
import { API } from '../contract/api-routes';
import type { MasterKeyRotationReport } from '../contract/api-types';
import { DEV_KEY_FILE, MasterKeyring, prependDevKey } from '../crypto/master-keyring';
import { EventStore } from '../event-store/event-store';
import { keyHolders } from '../master-keys/key-holders';
import { MasterKeyRotation } from '../master-keys/master-key-rotation';
import { DataDirLock, announcedService } from '../storage/data-dir-lock';
import { STORAGE, Storage } from '../storage/sql';
import { existingDatabase } from './existing-database';
import { withLedger } from './ledger-context';
import { progressReporter } from './progress';

/**
 * `secrets-ledger rotate-master-key` (SPEC §6), safe whether or not a service runs on the data
 * dir. With a service running (it holds the data dir's lock), the rotation runs inside it, over
 * its API: it is the process that wraps new values, so only it can switch keys without a moment
 * where a value is wrapped under a key it lacks. Without one, this command takes the lock itself
 * (a service started meanwhile refuses to start) and rotates the file directly.
 *
 * With SECRETS_MASTER_KEYS the operator has already put the new key first (and restarted the
 * service with it); without it (development) a new key is generated and put first in the key file.
 */
export async function rotateMasterKeyCommand(config: AppConfig, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // PostgreSQL: no process owns the database, and the rewrap batches take the log's lock like
  // every instance's writes; the rotation refuses while a live instance (master_key_holders)
  // lacks the active key, and calls no key retirable that a live instance wraps with.
  if (config.databaseUrl !== undefined) return report(await rotateOffline(config, { soleProcess: false }), config);
  existingDatabase(config.databasePath);
  const lock = DataDirLock.tryAcquire(config.dataDir);
  if (!lock) return report(await rotateThroughService(config, env), config);
  try {
    report(await rotateOffline(config, { soleProcess: true }), config);
  } finally {
    lock.release();
  }
}

/**
 * `soleProcess`: this process holds the SQLite data dir's lock, so no service runs on it, and
 * any row in master_key_holders is a dead service's (it would otherwise count until it expires).
 */
async function rotateOffline(config: AppConfig, { soleProcess }: { soleProcess: boolean }): Promise<MasterKeyRotationReport> {
  let generated: string | undefined;
  if (config.masterKeys.length === 0) {
    const file = join(config.dataDir, DEV_KEY_FILE);
    if (!existsSync(file)) throw new Error(`${file} is missing and SECRETS_MASTER_KEYS is unset: there is no key to rotate from`);
    generated = prependDevKey(file).kid;
  }
  return withLedger(config, async (app) => {
    const storage = app.get<Storage>(STORAGE);
    if (soleProcess) await storage.transact((tx) => keyHolders.forgetOthers(tx));
    const rotation = new MasterKeyRotation(storage, app.get(EventStore), app.get(MasterKeyring));
    const progress = progressReporter('rewrapping data keys', await rotation.pending());
    const result = await rotation.rotate(progress.update);
    progress.stop();
    return { ...result, ...(generated ? { generated } : {}) };
  });
}

async function rotateThroughService(config: AppConfig, env: NodeJS.ProcessEnv): Promise<MasterKeyRotationReport> {
  const service = announcedService(config.dataDir);
  const holder = service ? `a service (pid ${service.pid}, ${service.url})` : 'another secrets-ledger process';
  const given = env.SECRETS_URL || service?.url;
  if (!given) throw new Error(`${holder} holds the data dir ${config.dataDir}: wait for it to finish, or set SECRETS_URL if it is a service`);
  // SECRETS_URL and SECRETS_TOKEN as the other clients read them (SPEC §6): /api/v1, a pasted token.
  const url = serviceUrl(given, env.SECRETS_URL ? 'SECRETS_URL' : 'the address the service wrote in the data dir');
  const token = serviceToken(env.SECRETS_TOKEN) || config.adminToken;
  if (!token) throw new Error(`${holder} holds the data dir ${config.dataDir}, and the rotation runs inside it: set SECRETS_TOKEN to an admin token`);
  process.stderr.write(`secrets-ledger: ${holder} holds the data dir; rotating through ${url.origin}\n`);
  // With SECRETS_MASTER_KEYS, say which key should be active: a service started with other keys refuses.
  const body = config.masterKeys.length > 0 ? { activeKid: config.masterKeys[0].kid } : {};
  const transport = new NodeTransport({
    base: url,
    token,
    // SECRETS_CA_FILE (SPEC §7): a CA to trust for the service's HTTPS, as the SDK and `run` do.
    ca: env.SECRETS_CA_FILE ? readFileSync(env.SECRETS_CA_FILE) : undefined,
    // No limit: the answer comes when the rotation is done, and millions of data keys take a while.
    timeoutMs: 0,
    unreachable: (reason) => new Error(`cannot reach the service at ${url.origin}: ${reason}`),
  });
  try {
    return (await new ApiClient(transport).call(API.rotateMasterKey, { json: body })).body;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const expected = config.masterKeys.length > 0 ? ` (SECRETS_MASTER_KEYS here makes ${config.masterKeys[0].kid} active)` : '';
    throw new Error(`the service refused the rotation (${error.status}): ${error.explained ? error.problem.detail : 'no detail'}${expected}`);
  } finally {
    transport.close();
  }
}

function report(result: MasterKeyRotationReport, config: AppConfig): void {
  const where = config.masterKeys.length === 0 ? 'the key file' : 'SECRETS_MASTER_KEYS';
  if (result.generated) process.stdout.write(`generated master key ${result.generated} and made it active in ${join(config.dataDir, DEV_KEY_FILE)}\n`);
  process.stdout.write(
    `rewrapped ${result.rewrapped} data keys from [${result.from.join(', ')}] to ${result.to}; recorded MasterKeyRotated at seq ${result.seq}\n`,
  );
  for (const kid of result.retirable) process.stdout.write(`no data key uses ${kid} any more: it may be retired (removed from ${where})\n`);
  const kept = config.masterKeys.map((spec) => spec.kid).filter((kid) => kid !== result.to && !result.retirable.includes(kid));
  for (const kid of kept) process.stdout.write(`${kid} is not retirable yet: data keys or a live instance's active key still use it (docs/MASTER-KEYS.md)\n`);
}
