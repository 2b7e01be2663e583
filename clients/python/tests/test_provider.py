"""LedgerSecretProvider driven the way FiftyOne drives its secret provider."""

import asyncio
import contextlib
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ANNOTATION_PLUGIN, eventually

from secrets_ledger import FiftyOneNotAvailableError, SecretsClient
from secrets_ledger.fiftyone import LedgerSecret, LedgerSecretProvider, install

FIFTYONE_SHAPE = str(Path(__file__).resolve().parent / "fiftyone_shape")
CVAT_PASSWORD = "provider-cvat-password-5d1e"


@contextlib.contextmanager
def fiftyone_importable():
    """`import fiftyone` finds the FiftyOne-shaped package, and nothing of it stays after."""
    sys.path.insert(0, FIFTYONE_SHAPE)
    try:
        yield
    finally:
        sys.path.remove(FIFTYONE_SHAPE)
        for name in [name for name in sys.modules if name == "fiftyone" or name.startswith("fiftyone.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def plugins_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugins")
    (root / "annotation").symlink_to(ANNOTATION_PLUGIN, target_is_directory=True)
    (root / "acme" / "other").mkdir(parents=True)
    (root / "acme" / "other" / "fiftyone.yaml").write_text("name: '@acme/other'\nsecrets: [ACME_API_KEY, FIFTYONE_CVAT_URL]\n")
    (root / "acme" / "other" / "nested").mkdir()
    (root / "acme" / "other" / "nested" / "fiftyone.yml").write_text("name: '@acme/inside-a-plugin'\nsecrets: [NESTED_KEY]\n")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "fiftyone.yml").write_text("name: '@acme/hidden'\nsecrets: [HIDDEN_KEY]\n")
    (root / "forbidden").mkdir()
    (root / "forbidden" / "fiftyone.yml").write_text("name: '@acme/forbidden'\nsecrets: [FORBIDDEN_KEY]\n")
    return root


@pytest.fixture(scope="module")
def stored(service):
    for key, value in [
        ("FIFTYONE_CVAT_URL", "https://cvat.example/v1"),
        ("FIFTYONE_CVAT_PASSWORD", CVAT_PASSWORD),
        ("ACME_API_KEY", "acme-key-1"),
        ("FORBIDDEN_KEY", "never-served"),
        ("NESTED_KEY", "never-served"),
    ]:
        service.put_secret(key, value)


@pytest.fixture
def provider(service, plugins_dir, stored, caplog):
    # A token for two of the plugins only: each plugin's keys are resolved under its own name.
    token = service.issue_token("fiftyone-worker", plugins=["@voxel51/annotation", "@acme/other"])["token"]
    env = {"SECRETS_URL": service.url, "SECRETS_TOKEN": token, "SECRETS_CA_FILE": service.ca_file, "FIFTYONE_PLUGINS_DIR": str(plugins_dir)}
    caplog.set_level(logging.WARNING, logger="secrets_ledger")
    made = LedgerSecretProvider(env=env)
    yield made
    made.close()


def test_serves_the_plugins_under_fiftyone_plugins_dir(provider, caplog):
    assert sorted(provider.plugins) == ["@acme/other", "@voxel51/annotation"]
    assert "ACME_API_KEY" in provider.keys() and "FIFTYONE_DARWIN_API_KEY" in provider.keys()
    for hidden in ("HIDDEN_KEY", "NESTED_KEY", "FORBIDDEN_KEY"):
        assert hidden not in provider.keys()
    assert "@acme/forbidden" not in repr(provider)
    assert any("forbidden/fiftyone.yml left out: secrets service: 403" in record.getMessage() for record in caplog.get_records("setup"))


def test_secret_objects_as_fiftyone_reads_them(provider):
    secret = provider.get_sync("FIFTYONE_CVAT_PASSWORD")
    assert (secret.key, secret.value, secret.is_encrypted, bool(secret)) == ("FIFTYONE_CVAT_PASSWORD", CVAT_PASSWORD, False, True)
    for shown in (repr(secret), str(secret), f"{secret}", repr([secret])):
        assert CVAT_PASSWORD not in shown and "FIFTYONE_CVAT_PASSWORD" in shown
    assert not LedgerSecret("K", "")
    assert provider.get_sync("FIFTYONE_CVAT_EMAIL") is None  # declared, no value
    assert provider.get_sync("NOT_DECLARED_ANYWHERE") is None
    assert provider.get_sync("FORBIDDEN_KEY") is None


def test_the_calls_fiftyone_makes(provider):
    with fiftyone_importable():
        from fiftyone.plugins.secrets import PluginSecretsResolver, SecretsManager
    resolver = PluginSecretsResolver()
    resolver.client = provider
    declared = ["FIFTYONE_CVAT_URL", "FIFTYONE_CVAT_PASSWORD", "FIFTYONE_CVAT_EMAIL", "ACME_API_KEY"]

    async def operator_run():
        # ExecutionContext.resolve_secret_values: one awaited get per declared key, in the loop.
        resolved = {}
        for key in declared:
            secret = await resolver.get_secret(key, "@voxel51/annotation/request_annotations")
            if secret:
                resolved[secret.key] = secret.value
        # ctx.secrets[key] from an operator's worker thread: the synchronous path.
        from_thread = await asyncio.get_running_loop().run_in_executor(None, resolver.get_secret_sync, "ACME_API_KEY")
        multiple = await provider.get_multiple(set(declared))
        searched = await provider.search(r"^FIFTYONE_CVAT_(URL|PASSWORD)$")
        return resolved, from_thread, multiple, searched

    resolved, from_thread, multiple, searched = asyncio.run(operator_run())
    assert resolved == {"FIFTYONE_CVAT_URL": "https://cvat.example/v1", "FIFTYONE_CVAT_PASSWORD": CVAT_PASSWORD, "ACME_API_KEY": "acme-key-1"}
    assert from_thread.value == "acme-key-1"
    assert {key: secret.value for key, secret in multiple.items()} == {key: resolved[key] for key in resolved}
    assert sorted(searched) == ["FIFTYONE_CVAT_PASSWORD", "FIFTYONE_CVAT_URL"]
    assert asyncio.run(provider.get_multiple(iter(["ACME_API_KEY"]))).keys() == {"ACME_API_KEY"}

    # FiftyOne Teams' chain asks the environment first; the provider does too when it stands alone.
    chain = SecretsManager(provider)
    assert asyncio.run(chain.get("FIFTYONE_CVAT_PASSWORD")).value == CVAT_PASSWORD
    assert chain.get_sync("ACME_API_KEY").value == "acme-key-1"
    assert {key: s.value for key, s in asyncio.run(chain.get_multiple({"ACME_API_KEY", "FIFTYONE_CVAT_EMAIL"})).items()} == {"ACME_API_KEY": "acme-key-1"}
    assert chain.failures == []


def test_the_environment_wins(service, plugins_dir, stored):
    token = service.issue_token("fiftyone-env", plugins=["@voxel51/annotation", "@acme/other"])["token"]
    env = {"SECRETS_URL": service.url, "SECRETS_TOKEN": token, "SECRETS_CA_FILE": service.ca_file, "FIFTYONE_PLUGINS_DIR": str(plugins_dir), "ACME_API_KEY": "from-env", "FIFTYONE_CVAT_URL": ""}
    provider = LedgerSecretProvider(env=env)
    try:
        assert provider.get_sync("ACME_API_KEY").value == "from-env"
        assert provider.get_sync("FIFTYONE_CVAT_URL").value == "https://cvat.example/v1"  # empty never counts
    finally:
        provider.close()


def test_fifty_threads_at_once_while_a_value_changes(service, provider):
    keys = ["FIFTYONE_CVAT_URL", "FIFTYONE_CVAT_PASSWORD", "ACME_API_KEY"]
    start = threading.Barrier(50)
    seen = set()

    def worker(_):
        start.wait()
        answers = []
        for _ in range(200):
            for key in keys:
                secret = provider.get_sync(key)
                answers.append((key, secret.value if secret else None))

        # And the awaited calls, each thread in an event loop of its own.
        async def awaited():
            return [await provider.get(key) for key in keys], await provider.get_multiple(set(keys))

        one_by_one, multiple = asyncio.run(awaited())
        answers += [(secret.key, secret.value) for secret in one_by_one]
        answers += [(key, secret.value) for key, secret in multiple.items()]
        assert sorted(multiple) == sorted(keys)
        return answers

    with ThreadPoolExecutor(max_workers=50) as pool:
        futures = [pool.submit(worker, n) for n in range(50)]
        service.put_secret("ACME_API_KEY", "acme-key-2")
        for future in futures:
            seen.update(future.result(timeout=30))
    assert {value for key, value in seen if key == "FIFTYONE_CVAT_URL"} == {"https://cvat.example/v1"}
    assert {value for key, value in seen if key == "FIFTYONE_CVAT_PASSWORD"} == {CVAT_PASSWORD}
    assert {value for key, value in seen if key == "ACME_API_KEY"} <= {"acme-key-1", "acme-key-2"}
    eventually(lambda: provider.get_sync("ACME_API_KEY").value == "acme-key-2", timeout=1.0)
    service.put_secret("ACME_API_KEY", "acme-key-1")
    eventually(lambda: provider.get_sync("ACME_API_KEY").value == "acme-key-1", timeout=1.0)


def test_a_change_reaches_the_next_operator_run_without_a_restart(service, provider):
    eventually(lambda: provider.client.live, timeout=5)
    heard = []
    provider.on_change(heard.append)
    began = time.monotonic()
    service.put_secret("FIFTYONE_CVAT_URL", "https://cvat.example/v2")
    try:
        eventually(lambda: asyncio.run(provider.get("FIFTYONE_CVAT_URL")).value == "https://cvat.example/v2", timeout=1.0)
        assert time.monotonic() - began < 1.0
        # Declared by both plugins: each context hears it.
        eventually(lambda: heard == [["FIFTYONE_CVAT_URL"], ["FIFTYONE_CVAT_URL"]], timeout=1.0)
    finally:
        service.put_secret("FIFTYONE_CVAT_URL", "https://cvat.example/v1")


def test_install_replaces_fiftyones_provider(provider):
    with pytest.raises(FiftyOneNotAvailableError, match="fiftyone cannot be imported in this Python .*use LedgerSecretProvider directly"):
        install(provider)
    with fiftyone_importable():
        assert install(provider) is provider
        from fiftyone.plugins.secrets import PluginSecretsResolver

        assert PluginSecretsResolver().client is provider
        assert asyncio.run(PluginSecretsResolver().get_secret("ACME_API_KEY")).value == "acme-key-1"


def test_without_a_plugins_dir_it_says_what_to_set():
    with pytest.raises(Exception, match="set FIFTYONE_PLUGINS_DIR"):
        LedgerSecretProvider(client=SecretsClient("http://127.0.0.1:9", "slt_x"), env={})
