"""Secrets Ledger behind FiftyOne's secret-provider interface.

FiftyOne resolves an operator's declared secrets through `PluginSecretsResolver().client`:
`await client.get(key)` per key inside its event loop, `client.get_sync(key)` from worker
threads, `await client.get_multiple(keys)` and `await client.search(regex)`. Its resolver passes
no plugin name, so this provider serves the keys declared by every plugin under
FIFTYONE_PLUGINS_DIR, each resolved under its own plugin's name (a token limited to plugins
keeps working), from contexts the client keeps current: a change reaches the next operator run
without a restart. A non-empty environment variable wins, as FiftyOne Teams' manager orders it.
"""

import logging
import os
import re
import threading

from .client import SecretsClient
from .errors import FiftyOneNotAvailableError, SecretsLedgerError, ServiceSettingError
from .manifest import MANIFEST_NAMES, load_plugin_manifest

log = logging.getLogger("secrets_ledger")


class LedgerSecret:
    """A secret as FiftyOne's providers return one: `.key`, `.value`, `is_encrypted` False, true
    when it has a value. Its repr and str never show the value."""

    __slots__ = ("_key", "_value")

    def __init__(self, key, value):
        self._key = key
        self._value = value

    @property
    def key(self):
        return self._key

    @property
    def value(self):
        return self._value

    @property
    def is_encrypted(self):
        return False

    def __bool__(self):
        return bool(self._value)

    def __repr__(self):
        return f"LedgerSecret(key={self._key!r}, has_value={bool(self._value)})"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a secret is not picklable")


class LedgerSecretProvider:
    """FiftyOne's secret-provider interface over a SecretsClient."""

    def __init__(self, client=None, plugins_dir=None, env=None):
        """`client`: default `SecretsClient.from_env()` (SECRETS_URL, SECRETS_TOKEN,
        SECRETS_CA_FILE), which the provider then closes in `close()`. `plugins_dir`: default
        FIFTYONE_PLUGINS_DIR. `env`: where environment variables are looked up (default
        `os.environ`). Every plugin found is hydrated now; one the service refuses (a token
        limited to other plugins) is left out with a warning."""
        self._env = os.environ if env is None else env
        plugins_dir = plugins_dir or self._env.get("FIFTYONE_PLUGINS_DIR")
        if not plugins_dir:
            raise ServiceSettingError("set FIFTYONE_PLUGINS_DIR (or pass plugins_dir): the provider serves the secrets its plugins declare")
        self._owns_client = client is None
        self._client = SecretsClient.from_env(self._env) if client is None else client
        self._by_key = {}
        self._contexts = []
        self._lock = threading.Lock()
        manifests = plugin_manifests(plugins_dir)
        if not manifests:
            log.warning("secrets_ledger: no plugin (fiftyone.yml or fiftyone.yaml) under %s: only the environment is served", plugins_dir)
        for path in manifests:
            try:
                context = self._client.hydrate(load_plugin_manifest(path))
            except SecretsLedgerError as error:
                log.warning("secrets_ledger: %s left out: %s", path, error)
                continue
            self._contexts.append(context)
            for key in context.declared:
                self._by_key.setdefault(key, context)

    @property
    def client(self):
        return self._client

    @property
    def plugins(self):
        """The names of the plugins whose secrets are served."""
        return [context.plugin for context in self._contexts]

    def keys(self):
        """Every key a plugin found declares."""
        return list(self._by_key)

    def on_change(self, listener):
        """`listener(keys)` whenever a refresh changes served values (names only)."""
        for context in self._contexts:
            context.on_change(listener)
        return listener

    async def get(self, key, **kwargs):
        return self.get_sync(key, **kwargs)

    def get_sync(self, key, **kwargs):
        """The secret for `key`, or None. Never waits on the network: values are held in memory."""
        from_env = self._env.get(key)
        if from_env:
            return LedgerSecret(key, from_env)
        context = self._by_key.get(key)
        if context is None:
            return None
        value = context.secrets.get(key)
        return LedgerSecret(key, value) if value else None

    async def get_multiple(self, keys, **kwargs):
        """The secrets found among `keys` (any iterable, a set included): only those found."""
        found = {}
        for key in keys:
            secret = self.get_sync(key, **kwargs)
            if secret:
                found[key] = secret
        return found

    async def search(self, regex, **kwargs):
        """The secrets of the served keys whose name matches `regex` (anywhere in it)."""
        pattern = re.compile(regex)
        return await self.get_multiple([key for key in self._by_key if pattern.search(key)])

    def close(self):
        if self._owns_client:
            self._client.close()

    def __repr__(self):
        return f"<LedgerSecretProvider {', '.join(self.plugins)} via {self._client!r}>"

    __str__ = __repr__


def plugin_manifests(plugins_dir):
    """The manifests FiftyOne would find under `plugins_dir`: a directory holding fiftyone.yml
    (or .yaml) is a plugin and is not searched further; hidden directories are skipped."""
    found = []
    for root, dirs, files in os.walk(plugins_dir, followlinks=True):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        manifest = next((name for name in MANIFEST_NAMES if name in files), None)
        if manifest is not None:
            found.append(os.path.join(root, manifest))
            dirs[:] = []
    return found


def install(provider=None):
    """Puts `provider` (default: a new LedgerSecretProvider) in place of FiftyOne's own secret
    provider, `fiftyone.plugins.secrets.PluginSecretsResolver().client`, and returns it. Raises
    FiftyOneNotAvailableError when `fiftyone` cannot be imported here."""
    try:
        from fiftyone.plugins.secrets import PluginSecretsResolver
    except ImportError as error:
        raise FiftyOneNotAvailableError(
            f"install() replaces FiftyOne's secret provider, but fiftyone cannot be imported in this Python ({error}); "
            "install FiftyOne here, or use LedgerSecretProvider directly"
        ) from None
    provider = LedgerSecretProvider() if provider is None else provider
    PluginSecretsResolver().client = provider
    return provider
