"""How FiftyOne resolves an operator's secrets: through the `client` of one resolver instance."""

import os


class EnvSecretProvider:
    """FiftyOne's default provider: the environment, as it is."""

    async def get(self, key, **kwargs):
        return _EnvSecret(key, os.environ[key]) if key in os.environ else None

    def get_sync(self, key, **kwargs):
        return _EnvSecret(key, os.environ[key]) if key in os.environ else None

    async def get_multiple(self, keys, **kwargs):
        found = [await self.get(key) for key in keys]
        return {secret.key: secret for secret in found if secret}


class _EnvSecret:
    def __init__(self, key, value):
        self.key, self.value, self.is_encrypted = key, value, False

    def __bool__(self):
        return bool(self.value)


class PluginSecretsResolver:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            cls._instance.client = EnvSecretProvider()
        return cls._instance

    async def get_secret(self, key, operator_uri=None, **kwargs):
        return await self.client.get(key, **kwargs)

    def get_secret_sync(self, key, operator_uri=None, **kwargs):
        return self.client.get_sync(key, **kwargs)


def unencrypted(secret):
    """FiftyOne Teams' check on what a provider returned: a plaintext value, or an error."""
    if secret and not getattr(secret, "is_encrypted", False) and getattr(secret, "value", None):
        return secret
    raise ValueError("not an unencrypted secret")


class SecretsManager:
    """FiftyOne Teams' chain: the environment first, then the other providers; a provider that
    fails is logged and skipped; get_multiple asks each provider for the keys still missing."""

    def __init__(self, *providers):
        self.providers = [EnvSecretProvider(), *providers]
        self.failures = []

    async def get(self, key, **kwargs):
        for provider in self.providers:
            try:
                secret = await provider.get(key, **kwargs)
            except Exception as error:
                secret = self._failed(key, error)
            if self._usable(secret):
                return secret
        return None

    def get_sync(self, key, **kwargs):
        for provider in self.providers:
            try:
                secret = provider.get_sync(key, **kwargs)
            except Exception as error:
                secret = self._failed(key, error)
            if self._usable(secret):
                return secret
        return None

    def _failed(self, key, error):
        self.failures.append((key, type(error).__name__))

    @staticmethod
    def _usable(secret):
        try:
            return unencrypted(secret) is not None
        except ValueError:
            return False

    async def get_multiple(self, keys, **kwargs):
        secrets = {}
        keys = set(keys)
        for provider in self.providers:
            found = await provider.get_multiple(keys - set(secrets), **kwargs)
            for key, secret in found.items():
                secrets[key] = unencrypted(secret)
        return secrets
