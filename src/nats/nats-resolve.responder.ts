import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { TokensService } from '../auth/tokens.service';
import { UnauthenticatedError, ValidationError } from '../common/errors';
import { problemFor } from '../common/problem-details.filter';
import { ResolveResult, ResolveService } from '../resolve/resolve.service';
import { RESOLVE_SUBJECT, ResolveErrorReply } from './contract';
import { NatsLink } from './nats-link';

const REQUEST_FIELDS = ['token', 'plugin', 'keys'];
/** One answer per request even with several instances of the service subscribed. */
const QUEUE_GROUP = 'secrets-ledger';

/**
 * `secrets.resolve` request-reply (SPEC §4): the HTTP route's rules, audit and errors, reached
 * over NATS. Authentication is the token in the body instead of a header; everything after it
 * is the same ResolveService.
 *
 * Why a plain subscription and not Nest's NATS transport (`connectMicroservice`): Nest's
 * ServerNats awaits its first connection in `listen()`, so with NATS down at start
 * `startAllMicroservices()` either rejects (the service does not start) or, with
 * `waitOnFirstConnect`, never returns — and SPEC §7 says the service starts and serves writes
 * while NATS is unreachable. NatsLink connects in the background and subscribes once it is up.
 */
@Injectable()
export class NatsResolveResponder implements OnModuleInit {
  private readonly logger = new Logger('NatsResolve');

  constructor(
    private readonly link: NatsLink,
    private readonly tokens: TokensService,
    private readonly resolver: ResolveService,
  ) {}

  onModuleInit(): void {
    this.link.subscribe(RESOLVE_SUBJECT, async ({ data, reply }) => reply(await this.answer(data)), QUEUE_GROUP);
  }

  async answer(request: unknown): Promise<ResolveResult | ResolveErrorReply> {
    try {
      if (typeof request !== 'object' || request === null || Array.isArray(request)) {
        throw new ValidationError('The request must be a JSON object {token, plugin, keys}.');
      }
      const fields = request as Record<string, unknown>;
      const unknown = Object.keys(fields).filter((field) => !REQUEST_FIELDS.includes(field));
      if (unknown.length > 0) {
        throw new ValidationError('The request has unknown fields.', unknown.map((field) => ({ field, message: 'is not allowed' })));
      }
      if (typeof fields.token !== 'string') throw new UnauthenticatedError('A token is required.');
      const principal = this.tokens.authenticate(fields.token);
      if (!principal) throw new UnauthenticatedError('The token is unknown or revoked.');
      return await this.resolver.resolve(principal, { plugin: fields.plugin, keys: fields.keys });
    } catch (error) {
      const { status, title, detail } = problemFor(error, this.logger);
      return { error: { status, title, detail } };
    }
  }
}
