import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { NodeTransport, readReply } from '../../client/node-transport';
import { ServiceSettingError, serviceToken, serviceUrl } from '../../client/service-address';
import { ApiClient, ApiError, RouteOptions } from '../../contract/api-client';
import { Operation, pathOf } from '../../contract/api-routes';
import type { Items, Page } from '../../contract/api-types';
import { CommandFailure, EXIT, exitCodeForStatus } from './exit-codes';

export interface AdminApiOptions {
  /** The service's base address, as serviceUrl reads it (ends with `/`). */
  url: URL;
  token: string;
  /** PEM text of a CA to trust for HTTPS (SECRETS_CA_FILE). */
  ca?: string;
}

const REQUEST_TIMEOUT_MS = 15_000;

export const DEFAULT_SERVICE_URL = 'http://127.0.0.1:3000';

/**
 * The CLI's view of the service in the environment (SPEC §6): SECRETS_URL, SECRETS_TOKEN,
 * SECRETS_CA_FILE, each read by the clients' shared rules. `role` only words the message when
 * the token is missing (the audit commands take an auditor's).
 */
export function adminApiFromEnvironment(env: NodeJS.ProcessEnv = process.env, role = 'an admin token'): AdminApi {
  let token: string;
  let url: URL;
  try {
    token = serviceToken(env.SECRETS_TOKEN);
    url = serviceUrl(env.SECRETS_URL || DEFAULT_SERVICE_URL);
  } catch (error) {
    if (error instanceof ServiceSettingError) throw new CommandFailure(error.message, EXIT.usage);
    throw error;
  }
  if (!token) throw new CommandFailure(`set SECRETS_TOKEN to ${role} (it is never taken from a flag: flags show in ps)`, EXIT.usage);
  let ca: string | undefined;
  if (env.SECRETS_CA_FILE) {
    try {
      ca = readFileSync(env.SECRETS_CA_FILE, 'utf8');
    } catch (error) {
      throw new CommandFailure(`SECRETS_CA_FILE: cannot read ${env.SECRETS_CA_FILE} (${(error as NodeJS.ErrnoException).code})`, EXIT.usage);
    }
  }
  return new AdminApi({ url, token, ca });
}

/**
 * The HTTP API (SPEC §3) as the admin commands use it: the clients' API client over Node's
 * http(s), with every refusal turned into a CommandFailure carrying the service's problem detail
 * and the exit code for its status.
 */
export class AdminApi {
  private readonly transport: NodeTransport;
  private readonly api: ApiClient;

  constructor(private readonly options: AdminApiOptions) {
    this.transport = new NodeTransport({
      base: options.url,
      token: options.token,
      ca: options.ca,
      timeoutMs: REQUEST_TIMEOUT_MS,
      unreachable: (reason) => new CommandFailure(`cannot reach the service at ${this.url}: ${reason}`, EXIT.unavailable),
    });
    this.api = new ApiClient(this.transport);
  }

  /** The service's address, for messages: no credentials a URL might carry, no trailing slash. */
  get url(): string {
    return `${this.options.url.origin}${this.options.url.pathname.replace(/\/$/, '')}`;
  }

  /**
   * The route's answer when it is 2xx; a CommandFailure naming the problem otherwise.
   * `timeoutMs` bounds the silence before the answer (a verify of a long log is silent while
   * the service works).
   */
  async call<Reply, Body>(operation: Operation<Reply, Body>, options: RouteOptions<Body> = {}): Promise<Reply> {
    return (await failingAsCommand(this.api.call(operation, options))).body;
  }

  /** Every item of a list route, paged or not. */
  all<T>(operation: Operation<Page<T> | Items<T>>, params?: Record<string, string>): Promise<T[]> {
    return failingAsCommand(this.api.all<T>(pathOf(operation, params)));
  }

  /**
   * A GET whose 2xx body is consumed as it arrives (an export: memory stays flat however long
   * it is); a refusal is read whole and becomes a CommandFailure, as for `call`.
   */
  async stream(operation: Operation<unknown>, query: Record<string, string | undefined>): Promise<IncomingMessage> {
    const res = await this.transport.open({ method: operation.method, path: pathOf(operation, {}, query) });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    throw commandFailure(this.api.refusal(await readReply(res)));
  }
}

async function failingAsCommand<T>(answer: Promise<T>): Promise<T> {
  try {
    return await answer;
  } catch (error) {
    throw error instanceof ApiError ? commandFailure(error) : error;
  }
}

/** `404 Not Found: No secret FOO.`, then one line per invalid field. */
function commandFailure({ status, problem, explained }: ApiError): CommandFailure {
  const head = `${status} ${problem.title || 'error'}${explained ? `: ${problem.detail}` : ''}`;
  const fields = (problem.errors ?? []).map((error) => `\n  ${error.field}: ${error.message}`);
  return new CommandFailure(head + fields.join(''), exitCodeForStatus(status));
}
