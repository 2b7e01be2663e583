import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

const TAGS: Array<[string, string]> = [
  ['secrets', 'Add, change and remove secrets; metadata and history (admins never read a value back)'],
  ['resolve', 'Values of the keys a plugin declares, for executors; every call is audited'],
  ['tokens', 'Issue, list and revoke bearer tokens'],
  ['audit', 'The hash-chained log as a reviewer reads it: query, export, verify'],
  ['changes', 'Secret-state changes as server-sent events, from any revision then live (never a value)'],
  ['master-keys', 'Master-key rotation inside the running service (what rotate-master-key calls)'],
  ['health', 'Liveness and readiness, without a token'],
];

/**
 * The OpenAPI document at /docs (UI) and /docs-json: a contract, linted in the tests with
 * Redocly's recommended rules and Spectral's `spectral:oas`.
 */
export function setupOpenApi(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Secrets Ledger')
    .setDescription(
      'Event-sourced secrets service: admin API, executor resolve, audit trail. Every error is ' +
        '`application/problem+json`; no error ever contains a secret value or echoes the request body.',
    )
    .setVersion('1')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('/', 'this service')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: undefined, description: 'An opaque token (`slt_…`, 256 random bits) issued by POST /api/v1/tokens; not a JWT' });
  // bearerFormat undefined: Nest's default says JWT, and these tokens are opaque.
  TAGS.forEach(([name, description]) => builder.addTag(name, description));
  const document = SwaggerModule.createDocument(app, builder.build());
  // Routes outside /api/v1 take no token: say so, rather than leave their security undefined.
  for (const [path, operations] of Object.entries(document.paths)) {
    if (path.startsWith('/api/v1/')) continue;
    for (const operation of Object.values(operations)) if (typeof operation === 'object' && operation && 'responses' in operation) operation.security = [];
  }
  SwaggerModule.setup('docs', app, document);
  return document;
}
