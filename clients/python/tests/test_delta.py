"""A change re-reads only the key it names (a delta resolve), and each key keeps its newest read."""

import random

import pytest
from conftest import ANNOTATION_PLUGIN, Changes, eventually
from service import Service

from secrets_ledger import SecretsClient, load_plugin_manifest
from secrets_ledger.context import PluginContext
from secrets_ledger.manifest import PluginManifest

MANIFEST = load_plugin_manifest(ANNOTATION_PLUGIN)


def keys_read(service, token_id):
    """The keys each of this token's resolves asked for, oldest first, from the audit trail."""
    status, page = service.request("GET", f"audit?type=SecretsResolved&actor={token_id}&limit=1000")
    assert status == 200, page
    return [sorted([read["key"] for read in item["data"]["keys"]] + item["data"]["missing"]) for item in page["items"]]


def test_a_change_is_read_alone_and_the_other_keys_keep_their_reads(service):
    issued = service.issue_token("delta-reads", plugins=["@voxel51/annotation"])
    service.put_secret("FIFTYONE_CVAT_URL", "https://delta.example/v1")
    service.put_secret("FIFTYONE_CVAT_USERNAME", "delta-user")
    with SecretsClient(service.url, issued["token"], service.ca_file, env={}) as client:
        ctx = client.hydrate(MANIFEST)
        eventually(lambda: ctx.live, timeout=5)
        # Control: hydrating (and the resync on connecting) read every key the manifest declares.
        full = sorted(MANIFEST.store_keys)
        eventually(lambda: keys_read(service, issued["id"]) and all(read == full for read in keys_read(service, issued["id"])))
        service.put_secret("FIFTYONE_CVAT_URL", "https://delta.example/v2")
        eventually(lambda: ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://delta.example/v2", timeout=2)
        eventually(lambda: keys_read(service, issued["id"])[-1] == ["FIFTYONE_CVAT_URL"])
        assert ctx.secrets.get("FIFTYONE_CVAT_USERNAME") == "delta-user"
        assert ctx.read_at("FIFTYONE_CVAT_URL") > ctx.read_at("FIFTYONE_CVAT_USERNAME")
        assert ctx.revision == ctx.read_at("FIFTYONE_CVAT_URL")


def test_after_a_failed_read_the_next_change_reads_every_key(tmp_path):
    """A read that failed may have been for a change the client then never asks about again: the
    next refresh of that context, whatever key it is for, reads every key."""
    service = Service(tmp_path / "data").start()
    try:
        token = service.issue_token("owed", plugins=["@voxel51/annotation"])["token"]
        service.put_secret("FIFTYONE_CVAT_URL", "https://owed.example/v1")
        service.put_secret("FIFTYONE_CVAT_USERNAME", "owed-user-1")
        # The notifications are handed to the client by this test, as its change stream would.
        with SecretsClient(service.url, token, service.ca_file, env={}, follow_changes=False) as client:
            ctx = client.hydrate(MANIFEST)
            revision = ctx.revision
            service.put_secret("FIFTYONE_CVAT_URL", "https://owed.example/v2")
            service.stop()
            client.change({"key": "FIFTYONE_CVAT_URL", "revision": revision + 1})
            assert ctx.stale
            assert ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://owed.example/v1"
            service.start()
            service.put_secret("FIFTYONE_CVAT_USERNAME", "owed-user-2")
            client.change({"key": "FIFTYONE_CVAT_USERNAME", "revision": revision + 2})
            assert ctx.secrets.get("FIFTYONE_CVAT_USERNAME") == "owed-user-2"
            assert ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://owed.example/v2"
            assert not ctx.stale
            # Settled: the next change is a delta again.
            service.put_secret("FIFTYONE_CVAT_USERNAME", "owed-user-3")
            service.put_secret("FIFTYONE_CVAT_URL", "https://owed.example/v3")
            client.change({"key": "FIFTYONE_CVAT_USERNAME", "revision": revision + 3})
            assert ctx.secrets.get("FIFTYONE_CVAT_USERNAME") == "owed-user-3"
            assert ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://owed.example/v2"
    finally:
        service.stop()


KEYS = ["K_A", "K_B", "K_C", "K_D"]


def generated_history(rng, revisions):
    """The store at each revision: one key changes (a new value, or removed) per revision."""
    states = [{}]
    for revision in range(1, revisions + 1):
        state = dict(states[-1])
        key = rng.choice(KEYS)
        if rng.random() < 0.2:
            state.pop(key, None)
        else:
            state[key] = f"{key.lower()}-at-{revision}\n\u00e9\U0001f511"
        states.append(state)
    return states


@pytest.mark.parametrize("seed", range(300))
def test_each_key_holds_its_newest_read_whatever_order_the_replies_arrive_in(seed):
    rng = random.Random(seed)
    states = generated_history(rng, rng.randint(1, 12))
    # Full and delta reads at any revision, answered in any order (replies overtake each other).
    reads = []
    for _ in range(rng.randint(1, 10)):
        revision = rng.randrange(len(states))
        asked = KEYS if rng.random() < 0.3 else rng.sample(KEYS, rng.randint(1, len(KEYS)))
        reads.append((revision, asked))
    rng.shuffle(reads)
    context = PluginContext(PluginManifest(name="@generated/plugin", secrets=KEYS), precedence="store-only")
    heard = Changes()
    context.on_change(heard)
    for revision, asked in reads:
        secrets = {key: states[revision][key] for key in asked if key in states[revision]}
        went_back = context.apply_delta({"secrets": secrets, "missing": [k for k in asked if k not in secrets], "revision": revision}, asked)
        assert went_back is False
    for key in KEYS:
        newest = max((revision for revision, asked in reads if key in asked), default=-1)
        assert context.read_at(key) == newest
        assert context.secrets.get(key) == (states[newest].get(key) if newest >= 0 else None)
    assert context.revision == max(revision for revision, _ in reads)
    # Every key that ends with a value was heard to change.
    assert {key for key in KEYS if context.secrets.get(key) is not None} <= {key for _, keys in heard.heard for key in keys}


@pytest.mark.parametrize("seed", range(100))
def test_a_reply_below_the_revision_held_when_asking_is_taken_whole(seed):
    """The service's log went back (a restore): whatever the context held, the reply's values win."""
    rng = random.Random(seed)
    states = generated_history(rng, 12)
    context = PluginContext(PluginManifest(name="@generated/plugin", secrets=KEYS), precedence="store-only")
    held = rng.randint(6, 12)
    context.apply_snapshot({"secrets": {k: v for k, v in states[held].items()}, "missing": [], "revision": held})
    restored = rng.randint(0, held - 1)
    asked = KEYS if rng.random() < 0.5 else rng.sample(KEYS, rng.randint(1, len(KEYS)))
    reply = {"secrets": {k: states[restored][k] for k in asked if k in states[restored]}, "missing": [], "revision": restored}
    assert context.apply_delta(reply, asked, asked_at=context.revision) is True
    for key in asked:
        assert context.secrets.get(key) == states[restored].get(key)
        assert context.read_at(key) == restored
    # The keys not asked keep their values but no longer vouch for a revision the service never had.
    for key in set(KEYS) - set(asked):
        assert context.read_at(key) == -1
    assert context.revision == restored
