/** Asked for a key the plugin's manifest does not declare: only declared keys are resolvable. */
export class UndeclaredSecretError extends Error {
  constructor(
    readonly key: string,
    readonly plugin: string,
  ) {
    super(`Secret ${key} is not declared by plugin ${plugin} (add it to the secrets of its fiftyone.yml).`);
    this.name = 'UndeclaredSecretError';
  }
}

/** `require()` of a declared key that has no value in the store or the environment. */
export class MissingSecretError extends Error {
  constructor(
    readonly key: string,
    readonly plugin: string,
  ) {
    super(`Secret ${key} (declared by plugin ${plugin}) has no value: it is neither stored nor set in the environment.`);
    this.name = 'MissingSecretError';
  }
}

/** The service refused or could not answer a resolve. Never carries a value. */
export class SecretsServiceError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`secrets service: ${status} ${detail}`);
    this.name = 'SecretsServiceError';
  }
}

/** The service could not be reached at all (down, wrong URL, an untrusted certificate). */
export class SecretsServiceUnreachableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot reach the secrets service at ${url}: ${reason}`);
    this.name = 'SecretsServiceUnreachableError';
  }
}

/** A fiftyone.yml that is missing, not YAML, or not a valid manifest. */
export class PluginManifestError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'PluginManifestError';
  }
}
