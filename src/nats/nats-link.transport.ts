import type { INestApplication } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { NatsLink } from './nats-link';

/** One answer per request even with several instances of the service subscribed. */
const QUEUE_GROUP = 'secrets-ledger';

/**
 * Nest's microservice transport over our NatsLink: `@MessagePattern` handlers (with the app's
 * guards, pipes and interceptors: `inheritAppConfig`) answer NATS requests, as plain JSON.
 *
 * Why not Nest's built-in NATS transport (ServerNats): its `listen()` awaits the first
 * connection, so with NATS down at start `startAllMicroservices()` either rejects (the service
 * does not start) or, with `waitOnFirstConnect`, never returns — and SPEC §7 says the service
 * starts and serves writes while NATS is unreachable. It would also open a second connection
 * and wrap replies in its `{response, isDisposed}` envelope unless re-serialised. Here `listen`
 * registers the handlers on the link, which subscribes whenever it is (re)connected.
 */
export class NatsLinkTransport extends Server implements CustomTransportStrategy {
  constructor(private readonly link: NatsLink) {
    super();
  }

  listen(callback: () => void): void {
    for (const [pattern, handler] of this.messageHandlers) {
      this.link.subscribe(
        pattern,
        async ({ data, reply }) => reply(await lastValueFrom(this.transformToObservable(await handler(data)))),
        QUEUE_GROUP,
      );
    }
    callback();
  }

  /** The link outlives the transport: NatsLifecycle closes it after the relay has stopped. */
  close(): void {}

  on(): never {
    throw new Error('NatsLinkTransport has no events; watch NatsLink.onStatus instead');
  }

  unwrap<T>(): T {
    return this.link as T;
  }
}

/** Makes the app hybrid: HTTP plus `@MessagePattern` handlers over NATS. Start with startAllMicroservices() after listen(). */
export function connectNatsTransport(app: INestApplication): void {
  app.connectMicroservice({ strategy: new NatsLinkTransport(app.get(NatsLink)) }, { inheritAppConfig: true });
}
