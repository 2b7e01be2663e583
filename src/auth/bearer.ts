import type { FastifyRequest } from 'fastify';
import type { Principal } from './principal';

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

/** A request, once the HTTP edge has authenticated it. */
export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The token of an `Authorization: Bearer <token>` header; undefined when there is none or it is malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}
