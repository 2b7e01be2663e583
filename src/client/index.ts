/**
 * The executor SDK (SPEC §5), `secrets-ledger/client`. Loads no Nest code: plain modules, the
 * `nats` client and `yaml` only.
 */
export { SecretsClient, SecretsClientOptions } from './secrets-client';
export { PluginContext, SecretsAccessor, Precedence, SecretSource } from './plugin-context';
export { PluginManifest, loadPluginManifest } from './manifest';
export { MissingSecretError, PluginManifestError, SecretsServiceError, UndeclaredSecretError } from './errors';
export { ChangeNotification } from '../nats/contract';
