import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { TokensService } from '../auth/tokens.service';
import { UnauthenticatedError, ValidationError } from '../common/errors';
import { problemFor } from '../common/problem-details.filter';
import { ResolveRequest, ResolveResult, ResolveService } from '../resolve/resolve.service';
import { RESOLVE_SUBJECT, ResolveErrorReply } from './contract';

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
      // The token authenticates; the rest is the same request the HTTP route takes.
      const { token, ...rest } = request as Record<string, unknown>;
      if (typeof token !== 'string') throw new UnauthenticatedError('A token is required.');
      const principal = this.tokens.authenticate(token);
      if (!principal) throw new UnauthenticatedError('The token is unknown or revoked.');
      return await this.resolver.resolve(principal, rest as unknown as ResolveRequest);
    } catch (error) {
      const { status, title, detail } = problemFor(error, this.logger);
      return { error: { status, title, detail } };
    }
  }
}
