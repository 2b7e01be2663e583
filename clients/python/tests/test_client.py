"""The client against a real service: hydrate, changes, precedence, declared keys only."""

import time

import pytest
from conftest import ANNOTATION_PLUGIN, eventually

from secrets_ledger import MissingSecretError, SecretsClient, UndeclaredSecretError, load_plugin_manifest

MANIFEST = load_plugin_manifest(ANNOTATION_PLUGIN)


@pytest.fixture(scope="module")
def stored(service):
    service.put_secret("FIFTYONE_CVAT_URL", "https://cvat.example/v1")
    service.put_secret("FIFTYONE_CVAT_USERNAME", "annotator")
    service.put_secret("FIFTYONE_LABELBOX_API_KEY", "labelbox-key-4417")


@pytest.fixture
def client(service, executor_token, stored):
    with SecretsClient(service.url, executor_token, service.ca_file, env={}) as made:
        yield made


def test_hydrates_the_annotation_manifest(client):
    ctx = client.hydrate(MANIFEST)
    assert ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://cvat.example/v1"
    assert ctx.secrets["FIFTYONE_CVAT_USERNAME"] == "annotator"
    assert ctx.secrets.require("FIFTYONE_LABELBOX_API_KEY") == "labelbox-key-4417"
    assert ctx.secrets.source("FIFTYONE_CVAT_URL") == "store"
    assert sorted(ctx.secrets.keys()) == ["FIFTYONE_CVAT_URL", "FIFTYONE_CVAT_USERNAME", "FIFTYONE_LABELBOX_API_KEY"]
    # Declared but neither stored nor in the environment.
    assert ctx.secrets.get("FIFTYONE_CVAT_PASSWORD") is None
    assert ctx.secrets["FIFTYONE_CVAT_PASSWORD"] is None
    assert ctx.secrets.source("FIFTYONE_CVAT_PASSWORD") is None
    with pytest.raises(MissingSecretError, match="FIFTYONE_CVAT_PASSWORD .*has no value"):
        ctx.secrets.require("FIFTYONE_CVAT_PASSWORD")
    assert ctx.stale is False
    # Cached: the same context for the same manifest, and for the same plugin named as a mapping.
    assert client.hydrate(load_plugin_manifest(ANNOTATION_PLUGIN / "fiftyone.yml")) is ctx


def test_undeclared_keys_are_refused(client):
    ctx = client.hydrate(MANIFEST)
    for read in (ctx.secrets.get, ctx.secrets.__getitem__, ctx.secrets.require, ctx.secrets.source, ctx.secrets.has):
        with pytest.raises(UndeclaredSecretError, match="Secret AWS_SECRET_ACCESS_KEY is not declared by plugin @voxel51/annotation"):
            read("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(KeyError):
        ctx.secrets["AWS_SECRET_ACCESS_KEY"]


def test_a_change_arrives_within_a_second_without_asking(service, client):
    ctx = client.hydrate(MANIFEST)
    eventually(lambda: ctx.live, timeout=5)
    heard = []
    ctx.on_change(lambda keys: heard.append((time.monotonic(), keys)))
    started = time.monotonic()
    service.put_secret("FIFTYONE_CVAT_URL", "https://cvat.example/v2")
    eventually(lambda: heard, timeout=1.0)
    assert heard[0][1] == ["FIFTYONE_CVAT_URL"]
    assert heard[0][0] - started < 1.0
    assert ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://cvat.example/v2"
    # A key another plugin would declare changes nothing here.
    service.put_secret("UNRELATED_KEY", "x")
    service.put_secret("FIFTYONE_CVAT_URL", "https://cvat.example/v1")
    eventually(lambda: len(heard) == 2, timeout=1.0)
    assert [keys for _, keys in heard] == [["FIFTYONE_CVAT_URL"], ["FIFTYONE_CVAT_URL"]]


def test_a_removed_secret_goes_and_comes_back(service, client):
    ctx = client.hydrate(MANIFEST)
    eventually(lambda: ctx.live, timeout=5)
    service.remove_secret("FIFTYONE_LABELBOX_API_KEY")
    eventually(lambda: ctx.secrets.get("FIFTYONE_LABELBOX_API_KEY") is None, timeout=1.0)
    service.put_secret("FIFTYONE_LABELBOX_API_KEY", "labelbox-key-4417")
    eventually(lambda: ctx.secrets.get("FIFTYONE_LABELBOX_API_KEY") == "labelbox-key-4417", timeout=1.0)


def test_the_periodic_resync_alone_brings_a_change(service, executor_token, stored):
    with SecretsClient(service.url, executor_token, service.ca_file, env={}, follow_changes=False, resync_interval=0.2) as client:
        ctx = client.hydrate(MANIFEST)
        assert ctx.live is False
        service.put_secret("FIFTYONE_CVAT_USERNAME", "second-annotator")
        try:
            eventually(lambda: ctx.secrets.get("FIFTYONE_CVAT_USERNAME") == "second-annotator", timeout=2.0)
        finally:
            service.put_secret("FIFTYONE_CVAT_USERNAME", "annotator")


@pytest.mark.parametrize(
    "precedence, env, value, source",
    [
        # A non-empty variable wins over the store (FiftyOne Teams' order)…
        ("env-first", {"FIFTYONE_CVAT_URL": "https://from-env"}, "https://from-env", "env"),
        # …an empty one never counts…
        ("env-first", {"FIFTYONE_CVAT_URL": ""}, "https://cvat.example/v1", "store"),
        ("store-first", {"FIFTYONE_CVAT_URL": "https://from-env"}, "https://cvat.example/v1", "store"),
        ("store-only", {"FIFTYONE_CVAT_URL": "https://from-env"}, "https://cvat.example/v1", "store"),
    ],
)
def test_environment_precedence(service, executor_token, stored, precedence, env, value, source):
    with SecretsClient(service.url, executor_token, service.ca_file, precedence=precedence, env=env) as client:
        ctx = client.hydrate(MANIFEST)
        assert ctx.secrets.get("FIFTYONE_CVAT_URL") == value
        assert ctx.secrets.source("FIFTYONE_CVAT_URL") == source


def test_the_environment_fills_what_the_store_lacks_and_is_read_at_each_lookup(service, executor_token, stored):
    env = {}
    with SecretsClient(service.url, executor_token, service.ca_file, precedence="store-first", env=env) as client:
        ctx = client.hydrate(MANIFEST)
        assert ctx.secrets.get("FIFTYONE_CVAT_EMAIL") is None
        env["FIFTYONE_CVAT_EMAIL"] = "ops@example.com"
        assert ctx.secrets.get("FIFTYONE_CVAT_EMAIL") == "ops@example.com"
        assert ctx.secrets.source("FIFTYONE_CVAT_EMAIL") == "env"
        # Undeclared stays undeclared, whatever the environment holds.
        env["AWS_SECRET_ACCESS_KEY"] = "x"
        with pytest.raises(UndeclaredSecretError):
            ctx.secrets.get("AWS_SECRET_ACCESS_KEY")


def test_os_environ_by_default(service, executor_token, stored, monkeypatch):
    monkeypatch.setenv("FIFTYONE_CVAT_URL", "https://from-os-environ")
    with SecretsClient(service.url, executor_token, service.ca_file) as client:
        assert client.hydrate(MANIFEST).secrets.get("FIFTYONE_CVAT_URL") == "https://from-os-environ"


def test_a_revision_gap_resyncs_every_context(service, executor_token, stored):
    with SecretsClient(service.url, executor_token, service.ca_file, env={}, follow_changes=False) as client:
        ctx = client.hydrate(MANIFEST)
        revision = ctx.revision
        # As when the stream opens after `revision` (that also resyncs, before the change below).
        client.connected(revision)
        service.put_secret("FIFTYONE_CVAT_USERNAME", "gap-annotator")
        try:
            # The next revision, for a key this plugin does not declare: nothing to ask.
            client.change({"key": "UNRELATED_KEY", "revision": revision + 1})
            assert ctx.secrets.get("FIFTYONE_CVAT_USERNAME") == "annotator"
            # One skipped: a change may have been missed, so every context is asked again.
            client.change({"key": "UNRELATED_KEY", "revision": revision + 3})
            assert ctx.secrets.get("FIFTYONE_CVAT_USERNAME") == "gap-annotator"
        finally:
            service.put_secret("FIFTYONE_CVAT_USERNAME", "annotator")
