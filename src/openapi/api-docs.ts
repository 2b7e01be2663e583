import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '../common/problem-details';
import { ProblemDetailsDto } from './problem-details.dto';

/** What each documented error status means on this API (SPEC §2, §3). */
const PROBLEMS: Record<number, string> = {
  400: 'Invalid input: the problem names each field and rule (never the value)',
  401: 'No token, or an unknown or revoked one',
  403: "The token's role (or plugin list) does not allow this; recorded as AccessDenied",
  404: 'No such secret, version or token',
  408: 'The request body did not arrive in time',
  409: 'Conflicts with the current state (the secret exists; the last admin token; a version destroyed, removed or current)',
  412: 'If-Match names a version that is no longer current',
  413: 'The body is over 256 KiB',
  415: 'The body is not application/json',
  429: 'Over a rate limit; nothing was written',
  503: 'Storage unavailable; nothing partial was stored',
};

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } };
const WWW_AUTHENTICATE = { 'WWW-Authenticate': { description: 'Always `Bearer`', schema: { type: 'string', example: 'Bearer' } } };

export const ETAG_HEADER = { ETag: { description: 'The secret\'s version, quoted (`"3"`): send it back as If-Match', schema: { type: 'string', example: '"3"' } } };
export const LOCATION_HEADER = { Location: { description: 'The new secret\'s URL', schema: { type: 'string', example: '/api/v1/secrets/FIFTYONE_CVAT_URL' } } };

/** Documents these error statuses, each with the one problem+json schema. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: PROBLEMS[status],
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDetailsDto) } } },
        headers: status === 429 || status === 503 ? RETRY_AFTER : status === 401 ? WWW_AUTHENTICATE : undefined,
      }),
    ),
  );
}

/** Every /api/v1 route: a bearer token, and the refusals any of them can meet. */
export function ApiAuthenticated(): ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiProblems(401, 403, 429, 503));
}

/** Routes that read a JSON body: the edge's refusals before any rule of the route. */
export function ApiJsonBody(): MethodDecorator {
  return ApiProblems(400, 408, 413, 415);
}
