/**
 * RFC 9457 problem details, the body of every refusal (SPEC §3), and how a client of this
 * repository reads one. No imports, for the same reason as api-types.ts.
 */

/** One invalid field: its name and the rule it breaks (never its value). */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldProblem[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A refusal as clients show it: the service's own words when it sent problem+json. */
export type Problem = Omit<ProblemDetails, 'type'>;

/** The service answered, and not with success. Carries the problem, never a request body. */
export class ApiError extends Error {
  constructor(
    readonly problem: Problem,
    /** False when the body was not problem+json (a proxy's page): `detail` only restates the status. */
    readonly explained = true,
  ) {
    super(problem.detail);
    this.name = 'ApiError';
  }

  get status(): number {
    return this.problem.status;
  }
}

/** The refusal a non-2xx answer means, from its status and its body as parsed JSON (or undefined). */
export function refusal(status: number, statusText: string, body: unknown): ApiError {
  const sent = (typeof body === 'object' && body !== null ? body : {}) as Partial<ProblemDetails>;
  if (typeof sent.detail === 'string') return new ApiError({ status, title: sent.title ?? statusText, detail: sent.detail, errors: sent.errors });
  return new ApiError({ status, title: statusText, detail: `The service answered ${status} ${statusText}.` }, false);
}
