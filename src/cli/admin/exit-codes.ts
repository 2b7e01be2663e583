/**
 * What an admin command's exit code says (docs/CLI.md, "Admin commands"). Scripts branch on these, so a
 * code is never reused for another meaning.
 */
export const EXIT = {
  ok: 0,
  /** Anything not listed below: a bug, an unexpected answer, invalid configuration. */
  failed: 1,
  /** The command line is wrong: unknown option, missing argument, no value given. */
  usage: 2,
  /** 404: no such secret or token. */
  notFound: 3,
  /** 409 or 412: the secret exists already, or changed since the version given. */
  conflict: 4,
  /** 401 or 403: the token is missing, unknown, revoked, or lacks the role. */
  refused: 5,
  /** The service could not be reached, or answered 429 or 5xx: try again later. */
  unavailable: 6,
  /** 400, 413, 415: the service refused the input (an invalid key or value). */
  invalid: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.notFound;
  if (status === 409 || status === 412) return EXIT.conflict;
  if (status === 401 || status === 403) return EXIT.refused;
  if (status === 429 || status >= 500) return EXIT.unavailable;
  if (status >= 400) return EXIT.invalid;
  return EXIT.failed;
}

/** An error an admin command ends with: its message goes to stderr, its code becomes ours. */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CommandFailure';
  }
}
