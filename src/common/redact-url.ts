/** A URL (or a list of them) fit for a log line or an error: user info (credentials) replaced. */
export function redactUrl(url: string): string {
  return url.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s,]*@/gi, '$1[credentials]@');
}
