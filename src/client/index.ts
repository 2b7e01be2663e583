/**
 * The executor SDK (SPEC §5), `secrets-ledger/client`. Loads no Nest code: plain modules, the
 * `nats` client (notifications only) and `yaml`.
 */
export { SecretsClient, SecretsClientOptions } from './secrets-client';
export { PluginContext, SecretsAccessor, Precedence, SecretSource } from './plugin-context';
export { PluginManifest, loadPluginManifest } from './manifest';
export { MissingSecretError, PluginManifestError, SecretsServiceError, SecretsServiceUnreachableError, UndeclaredSecretError } from './errors';
export type { ResolveReply } from '../contract/api-types';
export { ClientLog } from './notification-liveness';
export { ChangeNotification } from '../nats/contract';
export { NatsOptions, natsOptionsFromEnv } from '../nats/nats-options';
