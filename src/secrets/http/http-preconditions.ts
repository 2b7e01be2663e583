import { ValidationError } from '../../common/errors';

/** `"<version>"` — the ETag form of a secret's version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * Parses `If-Match`. Absent or `*` means no expectation (the secret must merely exist); otherwise
 * a single strong ETag `"<version>"`.
 */
export function expectedVersionFrom(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  const match = /^\s*"(\d{1,15})"\s*$/.exec(ifMatch);
  if (!match) {
    throw new ValidationError('If-Match must be a single ETag such as "3" (the version from the ETag header).', [
      { field: 'If-Match', message: 'expected "<version>"' },
    ]);
  }
  return Number(match[1]);
}
