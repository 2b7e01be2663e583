import { accessSync, constants } from 'node:fs';
import { redactUrl } from '../common/redact-url';

/**
 * How to reach and authenticate to NATS (SPEC §7), the same for the service, the SDK and `run`.
 * Plain data: only nats-link.ts turns it into the `nats` package's options. File paths rather
 * than contents, so a credential never sits in a config object that someone might log.
 */
export interface NatsOptions {
  /**
   * `nats://` or `tls://`, or several of them separated by commas (a cluster's seed servers);
   * may carry `user:password@` or `token@`, which move into `user`/`password`/`token` before
   * anything connects (see withUrlCredentials) and are never logged (see redactUrl).
   */
  url: string;
  user?: string;
  password?: string;
  token?: string;
  /** A file holding an NKey seed (`SU…`). */
  nkeySeedFile?: string;
  /** A `.creds` file (JWT + NKey seed), as `nsc` writes them. */
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_SUBJECT_PREFIX = 'secrets';

/** One or more NATS subject tokens: no spaces, wildcards or empty tokens. */
const PREFIX_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Reads the NATS variables; each problem is pushed to `problems` in words that never quote a
 * credential (a URL is shown without its user info).
 */
export function natsOptionsFromEnv(env: NodeJS.ProcessEnv, problems: string[]): { nats: NatsOptions; prefix: string } {
  const url = env.NATS_URL || DEFAULT_NATS_URL;
  if (!natsServers(url).every((server) => /^(nats|tls):\/\/[^\s/,]+\/?$/.test(server))) {
    problems.push(`NATS_URL must look like nats://host:port or tls://host:port (commas between several), got "${redactUrl(url)}"`);
  }
  const fromUrl = withUrlCredentials({ url });
  problems.push(...fromUrl.problems);
  const nats: NatsOptions = { ...fromUrl.options };
  const urlMethod = nats.user ?? nats.token;
  if (env.NATS_USER || env.NATS_PASSWORD) {
    if (!env.NATS_USER || !env.NATS_PASSWORD) problems.push('NATS_USER and NATS_PASSWORD go together: set both or neither');
    nats.user = env.NATS_USER;
    nats.password = env.NATS_PASSWORD;
  }
  if (env.NATS_TOKEN) nats.token = env.NATS_TOKEN;
  const methods = [urlMethod, env.NATS_USER, env.NATS_TOKEN, env.NATS_NKEY_SEED_FILE, env.NATS_CREDS_FILE].filter(Boolean).length;
  if (methods > 1) problems.push('choose one NATS authentication: credentials in NATS_URL, NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED_FILE or NATS_CREDS_FILE');

  nats.nkeySeedFile = readableFile(env, 'NATS_NKEY_SEED_FILE', problems);
  nats.credsFile = readableFile(env, 'NATS_CREDS_FILE', problems);
  const tls = {
    caFile: readableFile(env, 'NATS_TLS_CA_FILE', problems),
    certFile: readableFile(env, 'NATS_TLS_CERT_FILE', problems),
    keyFile: readableFile(env, 'NATS_TLS_KEY_FILE', problems),
  };
  if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) problems.push('NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together: set both or neither');
  if (tls.caFile || tls.certFile) nats.tls = tls;

  const prefix = env.SECRETS_NATS_PREFIX || DEFAULT_SUBJECT_PREFIX;
  if (!PREFIX_PATTERN.test(prefix)) {
    problems.push('SECRETS_NATS_PREFIX must be NATS subject tokens of A-Z a-z 0-9 _ - separated by dots (no spaces or wildcards)');
  }
  return { nats: dropUndefined(nats), prefix };
}

/** A file named by an environment variable, checked now so that a typo fails at start. */
export function readableFile(env: NodeJS.ProcessEnv, name: string, problems: string[]): string | undefined {
  const path = env[name];
  if (!path) return undefined;
  try {
    accessSync(path, constants.R_OK);
  } catch {
    problems.push(`${name}: cannot read ${path}`);
  }
  return path;
}

/** The servers of a NATS_URL: one, or a cluster's seeds separated by commas. */
export function natsServers(url: string): string[] {
  return url.split(',').map((server) => server.trim());
}

const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/)([^@/\s,]*)@/i;

/**
 * The options with the credentials of `url` (`user:password@` or `token@`, percent-encoded as
 * in any URL) moved into `user`/`password` or `token`, and the URL without them: the `nats`
 * package sends nothing from a URL's user info, so left there they would never authenticate,
 * and a URL without them is safe to log. Credentials given both ways, or different ones for
 * different servers, are problems (in words that quote none of them).
 */
export function withUrlCredentials(options: NatsOptions): { options: NatsOptions; problems: string[] } {
  const found = new Set<string>();
  const servers = natsServers(options.url).map((server) =>
    server.replace(USER_INFO, (_all, scheme: string, userInfo: string) => {
      found.add(userInfo);
      return scheme;
    }),
  );
  if (found.size === 0) return { options, problems: [] };
  const problems: string[] = [];
  if (found.size > 1) problems.push('NATS_URL gives different credentials for different servers: give them once');
  const userInfo = [...found][0];
  const separator = userInfo.indexOf(':');
  const fromUrl: Pick<NatsOptions, 'user' | 'password' | 'token'> =
    separator >= 0 ? { user: percentDecoded(userInfo.slice(0, separator)), password: percentDecoded(userInfo.slice(separator + 1)) } : { token: percentDecoded(userInfo) };
  if (options.user !== undefined || options.token !== undefined || options.nkeySeedFile || options.credsFile) {
    problems.push('NATS credentials are given both in the URL and as options: choose one');
  }
  return { options: { ...fromUrl, ...dropUndefined(options), url: servers.join(',') }, problems };
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
