"""Secrets Ledger's executor client for Python: a plugin's declared secrets, kept current.

    from secrets_ledger import SecretsClient, load_plugin_manifest
    with SecretsClient.from_env() as client:
        ctx = client.hydrate(load_plugin_manifest("plugins/annotation"))
        ctx.secrets.get("FIFTYONE_CVAT_URL")

`secrets_ledger.fiftyone` puts it behind FiftyOne's secret-provider interface.
"""

from .client import SecretsClient
from .context import PluginContext, SecretsAccessor
from .errors import (
    FiftyOneNotAvailableError,
    MissingSecretError,
    PluginManifestError,
    SecretsLedgerError,
    SecretsServiceError,
    SecretsServiceUnreachableError,
    ServiceSettingError,
    TokenRevokedError,
    UndeclaredSecretError,
)
from .manifest import PluginManifest, load_plugin_manifest

__all__ = [
    "SecretsClient",
    "PluginContext",
    "SecretsAccessor",
    "PluginManifest",
    "load_plugin_manifest",
    "FiftyOneNotAvailableError",
    "MissingSecretError",
    "PluginManifestError",
    "SecretsLedgerError",
    "SecretsServiceError",
    "SecretsServiceUnreachableError",
    "ServiceSettingError",
    "TokenRevokedError",
    "UndeclaredSecretError",
]
