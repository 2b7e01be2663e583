import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { UnauthenticatedError, ForbiddenError } from '../common/errors';
import type { Principal, Role } from './principal';
import { AccessDeniedRecorder } from './access-denied.recorder';
import { AuthenticatedRequest, bearerToken } from './bearer';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator';
import { TokensService } from './tokens.service';

/**
 * Checks the roles the route declares (403). A route with neither @Roles nor @Public is
 * refused: forgetting to declare roles must fail closed. The HTTP edge (src/http) has already
 * authenticated every /api/v1 request before its body was read; anything else is
 * authenticated here (401 for a missing or unknown token).
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
    const principal = request.principal ?? (await this.authenticate(request));

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [];
    if (!roles.includes(principal.role)) {
      const action = `${request.method} ${request.routeOptions?.url ?? request.url}`;
      await this.denied.record(principal, action);
      throw new ForbiddenError(`The ${principal.role} role may not ${action}.`);
    }
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Principal> {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw new UnauthenticatedError('A bearer token is required (Authorization: Bearer <token>).');
    const principal = await this.tokens.authenticate(token);
    if (!principal) throw new UnauthenticatedError('The token is unknown or revoked.');
    request.principal = principal;
    return principal;
  }
}

export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new UnauthenticatedError('No authenticated principal on this request.');
  return principal;
});
