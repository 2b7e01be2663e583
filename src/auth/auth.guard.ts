import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { UnauthenticatedError, ForbiddenError } from '../common/errors';
import type { Principal, Role } from './principal';
import { AccessDeniedRecorder } from './access-denied.recorder';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator';
import { TokensService } from './tokens.service';

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

/**
 * Authenticates every request (401 for a missing or unknown token) and checks the roles the
 * route declares (403). A route with neither @Roles nor @Public is refused: forgetting to
 * declare roles must fail closed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
    private readonly denied: AccessDeniedRecorder,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) throw new UnauthenticatedError('A bearer token is required (Authorization: Bearer <token>).');
    const principal = this.tokens.authenticate(match[1]);
    if (!principal) throw new UnauthenticatedError('The token is unknown or revoked.');
    request.principal = principal;

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [];
    if (!roles.includes(principal.role)) {
      const action = `${request.method} ${request.routeOptions?.url ?? request.url}`;
      await this.denied.record(principal, action);
      throw new ForbiddenError(`The ${principal.role} role may not ${action}.`);
    }
    return true;
  }
}

export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new UnauthenticatedError('No authenticated principal on this request.');
  return principal;
});
