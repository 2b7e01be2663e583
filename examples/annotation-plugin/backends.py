"""Which annotation backends the environment configures.

Open-source FiftyOne reads a plugin's secrets from the environment (its EnvSecretProvider):
a declared key is simply an environment variable. `secrets-ledger run` puts the declared
secrets there, so this module needs nothing from Secrets Ledger.
"""

import os

# backend -> (the variable naming where it is, the variables holding its credentials)
BACKENDS = {
    "cvat": ("FIFTYONE_CVAT_URL", ["FIFTYONE_CVAT_USERNAME", "FIFTYONE_CVAT_PASSWORD", "FIFTYONE_CVAT_EMAIL"]),
    "labelbox": ("FIFTYONE_LABELBOX_URL", ["FIFTYONE_LABELBOX_API_KEY"]),
    "labelstudio": ("FIFTYONE_LABELSTUDIO_URL", ["FIFTYONE_LABELSTUDIO_API_KEY"]),
    "darwin": ("FIFTYONE_DARWIN_CONFIG_CLS", ["FIFTYONE_DARWIN_API_KEY"]),
}


def configured_backends(environ=os.environ):
    """Each backend with a location: where it is, and which credentials are set.

    Credentials are reported as set or not, never shown.
    """
    found = {}
    for backend, (location, credentials) in BACKENDS.items():
        where = environ.get(location)
        if where:
            found[backend] = {"at": where, "credentials": {key: bool(environ.get(key)) for key in credentials}}
    return found


def default_backend(environ=os.environ):
    return environ.get("FIFTYONE_ANNOTATION_DEFAULT_BACKEND", "cvat")
