"""The errors the client raises. None carries a secret value or a token."""


class SecretsLedgerError(Exception):
    """Base of every error this package raises."""


class ServiceSettingError(SecretsLedgerError, ValueError):
    """A service address or token that cannot be used. Names the setting, never its value."""


class PluginManifestError(SecretsLedgerError):
    """A fiftyone.yml that is missing, not YAML, or not a valid manifest."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)


class UndeclaredSecretError(SecretsLedgerError, KeyError):
    """Asked for a key the plugin's manifest does not declare: only declared keys are resolvable."""

    def __init__(self, key, plugin):
        super().__init__(f"Secret {key} is not declared by plugin {plugin} (add it to the secrets of its fiftyone.yml).")
        self.key = key
        self.plugin = plugin

    # KeyError's str() is the repr of its argument; this one reads as a sentence.
    def __str__(self):
        return self.args[0]


class MissingSecretError(SecretsLedgerError, LookupError):
    """`require()` of a declared key that has no value in the store or the environment."""

    def __init__(self, key, plugin):
        super().__init__(f"Secret {key} (declared by plugin {plugin}) has no value: it is neither stored nor set in the environment.")
        self.key = key
        self.plugin = plugin


class SecretsServiceError(SecretsLedgerError):
    """The service refused or could not answer a request. `detail` is the service's, never a value."""

    def __init__(self, status, detail):
        super().__init__(f"secrets service: {status} {detail}")
        self.status = status
        self.detail = detail
        # Seconds the service asked to wait (`Retry-After`), when it did.
        self.retry_after = None


class SecretsServiceUnreachableError(SecretsLedgerError, ConnectionError):
    """The service could not be reached at all (down, wrong URL, an untrusted certificate)."""

    def __init__(self, url, reason):
        super().__init__(f"cannot reach the secrets service at {url}: {reason}")
        self.url = url


class TokenRevokedError(SecretsLedgerError):
    """The service no longer accepts the client's token: the client has ended; its contexts keep
    their last values, stale, and nothing refreshes them."""

    def __init__(self, url, how):
        super().__init__(
            f"the secrets service at {url} {how}: this client has ended (its contexts keep their last values, stale, "
            "and receive no more changes); start a new one with a valid executor token (SECRETS_TOKEN)"
        )
        self.url = url


class FiftyOneNotAvailableError(SecretsLedgerError, ImportError):
    """`install()` without FiftyOne importable in this Python."""
