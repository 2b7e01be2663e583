"""The service goes away and comes back; a token is revoked."""

import logging
import sqlite3

import pytest
from conftest import ANNOTATION_PLUGIN, eventually
from service import Service

from secrets_ledger import SecretsClient, TokenRevokedError, load_plugin_manifest

MANIFEST = load_plugin_manifest(ANNOTATION_PLUGIN)


def test_stale_values_while_the_service_is_down_fresh_after(service, executor_token):
    service.put_secret("FIFTYONE_CVAT_URL", "https://before-the-outage")
    with SecretsClient(service.url, executor_token, service.ca_file, env={}) as client:
        ctx = client.hydrate(MANIFEST)
        eventually(lambda: ctx.live, timeout=5)
        service.stop()
        try:
            # The stream breaks, the client asks at once, nobody answers: stale, values kept.
            eventually(lambda: ctx.stale, timeout=3)
            assert ctx.live is False
            assert ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://before-the-outage"
            assert ctx.secrets.source("FIFTYONE_CVAT_URL") == "store"
        finally:
            service.start()
        # Back: the stream reconnects (with its last id) and the client resyncs.
        eventually(lambda: ctx.live and not ctx.stale, timeout=10)
        service.put_secret("FIFTYONE_CVAT_URL", "https://after-the-outage")
        eventually(lambda: ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://after-the-outage", timeout=1.0)


def test_a_service_restored_from_a_backup_is_followed_from_its_restored_log(tmp_path, caplog):
    """After a restore the service's revisions are below what the client has read: the client
    takes the restored log's values and the changes made on it, instead of holding the lost
    history's until the new revisions pass the old ones."""
    service = Service(tmp_path / "data").start()
    try:
        token = service.issue_token("restore", plugins=["@voxel51/annotation"])["token"]
        service.put_secret("FIFTYONE_CVAT_URL", "https://in-the-backup")
        database = service.data_dir / "secrets.db"
        backup = tmp_path / "backup.db"
        with sqlite3.connect(database) as live, sqlite3.connect(backup) as copy:
            live.backup(copy)
        caplog.set_level(logging.WARNING, logger="secrets_ledger")
        with SecretsClient(service.url, token, service.ca_file, env={}) as client:
            ctx = client.hydrate(MANIFEST)
            eventually(lambda: ctx.live, timeout=5)
            # Written after the backup: the restore loses these.
            for n in range(3):
                service.put_secret("FIFTYONE_CVAT_URL", f"https://lost-{n}")
            eventually(lambda: ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://lost-2", timeout=2)
            held = ctx.revision

            service.stop()
            for suffix in ("-wal", "-shm"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
            backup.replace(database)
            service.start()

            eventually(lambda: ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://in-the-backup", timeout=10)
            assert ctx.revision < held
            service.put_secret("FIFTYONE_CVAT_URL", "https://after-the-restore")
            eventually(lambda: ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://after-the-restore", timeout=2)
            assert any("its log went back" in record.getMessage() for record in caplog.records)
    finally:
        service.stop()


def test_a_revoked_token_ends_the_client_with_a_clear_error(service, caplog):
    issued = service.issue_token("to-be-revoked", plugins=["@voxel51/annotation"])
    service.put_secret("FIFTYONE_CVAT_URL", "https://cvat.example/v1")
    caplog.set_level(logging.INFO, logger="secrets_ledger")
    with SecretsClient(service.url, issued["token"], service.ca_file, env={}) as client:
        ctx = client.hydrate(MANIFEST)
        eventually(lambda: ctx.live, timeout=5)
        service.revoke_token(issued["id"])

        # The stream says so within a second: the client ends, and says why.
        eventually(lambda: client.error is not None, timeout=1.5)
        message = str(client.error)
        assert isinstance(client.error, TokenRevokedError)
        assert "revoked this client's token" in message and "start a new one with a valid executor token" in message
        assert issued["token"] not in message
        assert any(record.levelno == logging.ERROR and record.getMessage().endswith(message) for record in caplog.records)
        with pytest.raises(TokenRevokedError):
            client.hydrate(MANIFEST)
        with pytest.raises(TokenRevokedError):
            client.resync()
        # As the TypeScript SDK: the last values stay, stale, and nothing refreshes them any more.
        assert ctx.live is False and ctx.stale is True
        assert ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://cvat.example/v1"
        eventually(lambda: not client._follower._thread.is_alive(), timeout=2)


def test_a_token_the_service_refuses_ends_the_client_too(service):
    issued = service.issue_token("revoked-while-away", plugins=["@voxel51/annotation"])
    with SecretsClient(service.url, issued["token"], service.ca_file, env={}, follow_changes=False) as client:
        ctx = client.hydrate(MANIFEST)
        service.revoke_token(issued["id"])
        # No stream to say so: the next resolve meets a 401.
        with pytest.raises(TokenRevokedError, match="refuses this client's token \\(401"):
            client.resync()
        assert ctx.stale is True
