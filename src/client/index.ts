/**
 * The executor SDK (SPEC §5), `secrets-ledger/client`. Loads no Nest code: plain modules, the
 * `nats` client (notifications only) and `yaml`.
 */
export { SecretsClient } from './secrets-client';
export type { SecretsClientOptions } from './secrets-client';
export { PluginContext, SecretsAccessor } from './plugin-context';
export type { Precedence, SecretSource } from './plugin-context';
export { loadPluginManifest } from './manifest';
export type { PluginManifest } from './manifest';
export { MissingSecretError, PluginManifestError, SecretsServiceError, SecretsServiceUnreachableError, UndeclaredSecretError } from './errors';
export type { ResolveReply } from '../contract/api-types';
export type { ClientLog } from './notification-liveness';
export type { ChangeNotification } from '../contract/change-notification';
export { natsOptionsFromEnv } from '../nats/nats-options';
export type { NatsOptions } from '../nats/nats-options';
