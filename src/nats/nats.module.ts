import { Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { NatsLink } from './nats-link';
import { NatsReadiness, NotificationsReadiness } from './nats-readiness';
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
    // One line per distinct reason, not one per retry; never the URL's credentials.
    this.link.onError((problem) => this.logger.error(`${problem}: writes go on, notifications wait in the log until NATS accepts us`));
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

/** SPEC §4: value-free change notifications (the relay), over one connection that only publishes. */
@Module({
  providers: [
    { provide: NatsLink, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new NatsLink(config.nats, 'secrets-ledger') },
    RelayCheckpoints,
    NatsLifecycle,
    NotificationRelay,
    NatsReadiness,
    NotificationsReadiness,
  ],
  exports: [NatsLink, NotificationRelay],
})
export class NatsModule {}
