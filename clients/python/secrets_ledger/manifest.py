"""Plugin manifests read the way FiftyOne reads them (SPEC §5), as the TypeScript SDK reads them."""

import errno
import json
import os
import re
import stat
from dataclasses import dataclass, field
from typing import List, Optional

import yaml

from .errors import PluginManifestError

# The names FiftyOne looks for in a plugin directory, in its order.
MANIFEST_NAMES = ("fiftyone.yml", "fiftyone.yaml")

# SPEC §1: upper snake case, at most 128 characters.
_SECRET_KEY = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")
SECRET_KEY_MAX_LENGTH = 128
SECRET_KEY_RULE = (
    "must be upper snake case (A-Z, 0-9, single underscores between words, starting with a letter) and at most 128 characters"
)


def is_valid_secret_key(key):
    return isinstance(key, str) and len(key) <= SECRET_KEY_MAX_LENGTH and _SECRET_KEY.fullmatch(key) is not None


@dataclass(frozen=True)
class PluginManifest:
    """What the client needs from a plugin's `fiftyone.yml`."""

    name: str
    # Each declared key once: the only keys its context can resolve. A key that breaks the
    # store's key rule is kept (FiftyOne reads it from the environment) but never asked of the store.
    secrets: List[str] = field(default_factory=list)
    version: Optional[str] = None
    # What the loader accepted but a plugin author should hear about.
    warnings: List[str] = field(default_factory=list)
    path: Optional[str] = None

    @property
    def store_keys(self):
        """The declared keys the store may hold: those that follow its key rule (SPEC §1)."""
        return [key for key in self.secrets if is_valid_secret_key(key)]


def load_plugin_manifest(path):
    """Reads `path`, a `fiftyone.yml` (or `.yaml`) or the plugin directory holding it. FiftyOne
    checks only `name`, so the rest is lenient: other fields are ignored, `secrets` may be absent,
    null, empty or repeat a key, and keys are not refused for their spelling — the manifest's
    `warnings` say what was odd."""
    file = _manifest_file(os.fspath(path))
    try:
        with open(file, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise PluginManifestError(file, f"cannot read the plugin manifest ({_errno_name(error)})") from None
    except UnicodeDecodeError:
        raise PluginManifestError(file, "cannot read the plugin manifest (not UTF-8)") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        first_line = str(error).split("\n")[0]
        raise PluginManifestError(file, f"not valid YAML: {first_line}") from None
    return parse_manifest(file, document)


def parse_manifest(path, document):
    """The manifest in an already parsed document (a mapping with at least `name`)."""
    if not isinstance(document, dict):
        raise PluginManifestError(path, "expected a mapping with at least `name`")
    name = document.get("name")
    version = document.get("version")
    secrets = document.get("secrets")
    if not isinstance(name, str) or name.strip() == "":
        raise PluginManifestError(path, "`name` must be a non-empty string")
    if secrets is not None and not isinstance(secrets, list):
        raise PluginManifestError(path, "`secrets` must be a list of keys")

    declared = []
    warnings = []
    for index, key in enumerate(secrets or []):
        where = f"{path}: secrets[{index}]"
        if not isinstance(key, str) or key == "":
            warnings.append(f"{where} is not a key name ({json.dumps(key, default=str)}): ignored")
        elif key in declared:
            warnings.append(f"{where} repeats {key}: counted once")
        else:
            declared.append(key)
            if not is_valid_secret_key(key):
                warnings.append(
                    f"{where} {json.dumps(key)} is not a valid secret key ({SECRET_KEY_RULE}): "
                    "it can come only from the environment, never from the store"
                )
    return PluginManifest(
        name=name,
        secrets=declared,
        version=None if version is None else str(version),
        warnings=warnings,
        path=str(path),
    )


def _manifest_file(path):
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise PluginManifestError(path, "plugin manifest not found") from None
    except OSError as error:
        raise PluginManifestError(path, f"cannot read the plugin manifest ({_errno_name(error)})") from None
    if not stat.S_ISDIR(mode):
        return path
    for name in MANIFEST_NAMES:
        candidate = os.path.join(path, name)
        if os.path.isfile(candidate):
            return candidate
    raise PluginManifestError(path, f"a plugin directory without {' or '.join(MANIFEST_NAMES)}")


def _errno_name(error):
    return errno.errorcode.get(error.errno, type(error).__name__) if error.errno else type(error).__name__
