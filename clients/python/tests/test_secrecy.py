"""No value in repr, str, logs or exceptions; the searches would find one (positive controls)."""

import logging

import pytest
from conftest import ANNOTATION_PLUGIN, eventually

from secrets_ledger import SecretsClient, SecretsServiceError, UndeclaredSecretError, load_plugin_manifest
from secrets_ledger.fiftyone import LedgerSecret

PASSWORD = "cvat-password-never-shown-7f3a9c"
NEXT_PASSWORD = "cvat-password-next-never-shown-21be"


def test_repr_str_logs_and_errors_never_show_a_value(service, executor_token, caplog):
    caplog.set_level(logging.DEBUG)
    service.put_secret("FIFTYONE_CVAT_PASSWORD", PASSWORD)
    shown = []
    with SecretsClient(service.url, executor_token, service.ca_file, env={}) as client:
        ctx = client.hydrate(load_plugin_manifest(ANNOTATION_PLUGIN))
        eventually(lambda: ctx.live, timeout=5)
        # Positive control: the value is there to be found, and the search finds it.
        assert ctx.secrets.get("FIFTYONE_CVAT_PASSWORD") == PASSWORD
        assert PASSWORD in f"{ctx.secrets.get('FIFTYONE_CVAT_PASSWORD')}"
        service.put_secret("FIFTYONE_CVAT_PASSWORD", NEXT_PASSWORD)
        eventually(lambda: ctx.secrets.get("FIFTYONE_CVAT_PASSWORD") == NEXT_PASSWORD, timeout=2)
        # It came pushed, over the values-mode stream, so what is searched below includes that path.
        _, trail = service.request("GET", "audit?type=SecretsResolved&key=FIFTYONE_CVAT_PASSWORD&limit=1000")
        assert trail["items"][-1]["data"].get("via") == "stream"
        secret = LedgerSecret("FIFTYONE_CVAT_PASSWORD", NEXT_PASSWORD)
        for thing in (client, ctx, ctx.secrets, secret, client._http):
            shown += [repr(thing), str(thing), f"{thing}", "%s %r" % (thing, thing)]
        for failing in (
            lambda: ctx.secrets.get("UNDECLARED"),
            lambda: client.hydrate({"name": "@acme/other", "secrets": ["FIFTYONE_CVAT_PASSWORD"]}),
        ):
            with pytest.raises((UndeclaredSecretError, SecretsServiceError)) as caught:
                failing()
            shown += [str(caught.value), repr(caught.value)]
        with pytest.raises(TypeError):
            __import__("pickle").dumps(ctx.secrets)
    shown += [record.getMessage() for record in caplog.records]
    shown += [caplog.text]
    text = "\n".join(shown)
    assert "FIFTYONE_CVAT_PASSWORD" in text  # keys may show…
    for value in (PASSWORD, NEXT_PASSWORD, executor_token):
        assert value not in text  # …values and the token never
    # Positive control: the same search over a text holding a value finds it.
    assert NEXT_PASSWORD in text + repr(ctx.secrets.get("FIFTYONE_CVAT_PASSWORD"))
