import { redactUrl } from '../common/redact-url';
import { ApiClient, ApiError } from '../contract/api-client';
import { API } from '../contract/api-routes';
import type { ResolveReply } from '../contract/api-types';
import { SecretsServiceError, SecretsServiceUnreachableError } from './errors';
import { NodeTransport } from './node-transport';
import { serviceToken, serviceUrl } from './service-address';

export type { ResolveReply };

/** The SDK's connection to the service: the API client over one kept-alive Node transport. */
export class ServiceHttp {
  private readonly transport: NodeTransport;
  private readonly api: ApiClient;
  readonly url: string;

  constructor(url: string, token: string, options: { ca?: string | Buffer; timeoutMs: number }) {
    const base = serviceUrl(url, 'the secrets service URL');
    this.url = redactUrl(base.origin);
    this.transport = new NodeTransport({
      base,
      token: serviceToken(token, 'the token'),
      ca: options.ca,
      timeoutMs: options.timeoutMs,
      unreachable: (reason) => new SecretsServiceUnreachableError(this.url, reason),
    });
    this.api = new ApiClient(this.transport);
  }

  async resolve(plugin: string, keys: string[]): Promise<ResolveReply> {
    try {
      return (await this.api.call(API.resolve, { json: { plugin, keys } })).body;
    } catch (error) {
      // The SDK's own error, with the service's detail (or the status's reason phrase).
      if (error instanceof ApiError) throw new SecretsServiceError(error.status, error.explained ? error.problem.detail : error.problem.title || 'error');
      throw error;
    }
  }

  close(): void {
    this.transport.close();
  }
}
