import { Inject, Injectable } from '@nestjs/common';
import { ConflictError } from '../common/errors';
import { MasterKeyring, prependDevKey } from '../crypto/master-keyring';
import type { Actor } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { STORAGE, Storage } from '../storage/sql';
import { KeyHolderHeartbeat } from './key-holder-heartbeat';
import type { MasterKeyRotationReport } from '../contract/api-types';
import { MasterKeyRotation } from './master-key-rotation';

/**
 * Master-key rotation inside the running service (SPEC §6), which `rotate-master-key` calls when
 * a service holds the database. The service is the one process that wraps new values, so it is
 * the one that can switch keys without a moment where a value is wrapped under a key it lacks:
 *
 * - development key file: it writes a new key first in the file (atomically, fsynced) and only
 *   then makes it active in its own keyring, then rewraps;
 * - SECRETS_MASTER_KEYS: it rewraps under the active key it was started with; a caller that
 *   expects another active key is refused (409), because values would be rewrapped under a key
 *   this service does not wrap with (the operator restarts it with the new key first).
 *
 * Either way the rotation refuses (409) while another live instance lacks that key
 * (MasterKeyRotation).
 */
@Injectable()
export class MasterKeysService {
  private readonly rotation: MasterKeyRotation;
  private running = false;

  constructor(
    @Inject(STORAGE) storage: Storage,
    store: EventStore,
    private readonly keyring: MasterKeyring,
    private readonly heartbeat: KeyHolderHeartbeat,
  ) {
    this.rotation = new MasterKeyRotation(storage, store, keyring, heartbeat.instance);
  }

  async rotate(request: { activeKid?: string }, actor: Actor): Promise<MasterKeyRotationReport> {
    if (this.running) throw new ConflictError('A master-key rotation is already running in this service.');
    const devKeyFile = this.keyring.devKeyFile;
    if (request.activeKid !== undefined) {
      if (devKeyFile) {
        throw new ConflictError('This service takes its master keys from the development key file, not SECRETS_MASTER_KEYS: rotate without them.');
      }
      if (request.activeKid !== this.keyring.activeKid) {
        // The request's key id is not repeated (SPEC §3: no error echoes request content).
        throw new ConflictError(
          `This service wraps new values with master key ${this.keyring.activeKid}, not the key the request expects: ` +
            'restart it with SECRETS_MASTER_KEYS starting with that key (keeping the old keys), then rotate.',
        );
      }
    }
    this.running = true;
    try {
      let generated: string | undefined;
      if (devKeyFile) {
        const spec = prependDevKey(devKeyFile);
        this.keyring.activate(spec);
        generated = spec.kid;
        await this.heartbeat.beat();
      }
      return { ...(await this.rotation.rotate(undefined, actor)), ...(generated ? { generated } : {}) };
    } finally {
      this.running = false;
    }
  }
}
