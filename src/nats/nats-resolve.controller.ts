import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { TokensService } from '../auth/tokens.service';
import { UnauthenticatedError, ValidationError } from '../common/errors';
import { problemFor } from '../common/problem-details.filter';
import { ResolveResult, ResolveService } from '../resolve/resolve.service';
import { RESOLVE_SUBJECT, ResolveErrorReply } from './contract';

const REQUEST_FIELDS = ['token', 'plugin', 'keys'];

/**
 * `secrets.resolve` request-reply (SPEC §4): the HTTP route's rules, audit and errors, reached
 * over NATS. Authentication is the token in the body instead of a header; everything after it
 * is the same ResolveService.
 */
@Controller()
export class NatsResolveController {
  private readonly logger = new Logger('NatsResolve');

  constructor(
    private readonly tokens: TokensService,
    private readonly resolver: ResolveService,
  ) {}

  /** Every failure becomes an `{error}` reply: a requester must never wait for a timeout. */
  @MessagePattern(RESOLVE_SUBJECT)
  async resolve(@Payload() request: unknown): Promise<ResolveResult | ResolveErrorReply> {
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
