import { SetMetadata } from '@nestjs/common';
import type { Role } from './principal';

export const ROLES_KEY = 'secrets-ledger:roles';
export const PUBLIC_KEY = 'secrets-ledger:public';

/** The roles allowed on a route. Every route declares its roles or is explicitly @Public(). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Health and docs: no token needed. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
