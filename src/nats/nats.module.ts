import { Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { ResolveModule } from '../resolve/resolve.module';
import { SQLITE } from '../storage/database.module';
import { NatsLink } from './nats-link';
import { NatsReadiness, NotificationsReadiness } from './nats-readiness';
import { NatsResolveController } from './nats-resolve.controller';
import { NotificationRelay } from './notification-relay';
import { RelayCheckpoints } from './relay-checkpoints';

/**
 * Starts the link once every module is initialised, so no handler runs before the services it
 * calls are ready, and closes it last: the relay stops first (beforeApplicationShutdown).
 */
@Injectable()
export class NatsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Nats');

  constructor(private readonly link: NatsLink) {}

  onApplicationBootstrap(): void {
    this.link.onStatus((status, reconnected) => {
      if (status === 'connected') this.logger.log(reconnected ? 'NATS reconnected: notifications catch up' : 'NATS connected');
      if (status === 'disconnected') this.logger.warn('NATS disconnected: writes go on, notifications wait in the log');
    });
    this.link.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.link.close();
  }
}

/** SPEC §4: change notifications (the relay) and `secrets.resolve`, over one connection. */
@Module({
  imports: [ResolveModule],
  controllers: [NatsResolveController],
  providers: [
    { provide: NatsLink, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new NatsLink(config.natsUrl, 'secrets-ledger') },
    { provide: RelayCheckpoints, inject: [SQLITE], useFactory: (db: Database) => new RelayCheckpoints(db) },
    NatsLifecycle,
    NotificationRelay,
    NatsReadiness,
    NotificationsReadiness,
  ],
  exports: [NatsLink, NotificationRelay],
})
export class NatsModule {}
