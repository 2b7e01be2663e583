"""How a change reaches a context: its value pushed on the values-mode stream when the client's
contexts share one plugin, otherwise a resolve of the key it names alone (a delta); and each
key keeps its newest read, whatever order replies arrive in."""

import random

import pytest
from conftest import ANNOTATION_PLUGIN, Changes, eventually
from service import Service

from secrets_ledger import SecretsClient, load_plugin_manifest
from secrets_ledger.change_follower import ChangeFollower, ValuesScope
from secrets_ledger.context import PluginContext
from secrets_ledger.manifest import PluginManifest

MANIFEST = load_plugin_manifest(ANNOTATION_PLUGIN)
OTHER_PLUGIN = {"name": "@example/other", "secrets": ["FIFTYONE_CVAT_URL", "OTHER_API_KEY"]}


def reads(service, token_id):
    """This token's SecretsResolved entries, oldest first: the keys each read (read or missing),
    and how (`stream` for a pushed value, `resolve` otherwise)."""
    status, page = service.request("GET", f"audit?type=SecretsResolved&actor={token_id}&limit=1000")
    assert status == 200, page
    return [
        (sorted([read["key"] for read in item["data"]["keys"]] + item["data"]["missing"]), item["data"].get("via", "resolve"))
        for item in page["items"]
    ]


def settled_reads(service, token_id):
    """The entries once no new one has come for a moment (the resync on connecting is done)."""
    seen = [None]

    def unchanged():
        now = reads(service, token_id)
        same = now == seen[0]
        seen[0] = now
        return same

    eventually(unchanged, timeout=5, interval=0.3)
    return seen[0]


def test_with_contexts_of_two_plugins_a_change_is_resolved_alone_in_each(service):
    issued = service.issue_token("delta-reads", plugins=["@voxel51/annotation", "@example/other"])
    service.put_secret("FIFTYONE_CVAT_URL", "https://delta.example/v1")
    service.put_secret("FIFTYONE_CVAT_USERNAME", "delta-user")
    with SecretsClient(service.url, issued["token"], service.ca_file, env={}) as client:
        annotation = client.hydrate(MANIFEST)
        other = client.hydrate(OTHER_PLUGIN)
        eventually(lambda: annotation.live, timeout=5)
        before = settled_reads(service, issued["id"])
        # Control: hydrating and the resyncs read every key of each manifest.
        assert (sorted(MANIFEST.store_keys), "resolve") in before
        assert (sorted(OTHER_PLUGIN["secrets"]), "resolve") in before
        service.put_secret("FIFTYONE_CVAT_URL", "https://delta.example/v2")
        eventually(lambda: annotation.secrets.get("FIFTYONE_CVAT_URL") == other.secrets.get("FIFTYONE_CVAT_URL") == "https://delta.example/v2", timeout=2)
        assert settled_reads(service, issued["id"])[len(before):] == [(["FIFTYONE_CVAT_URL"], "resolve")] * 2
        assert annotation.secrets.get("FIFTYONE_CVAT_USERNAME") == "delta-user"
        assert annotation.read_at("FIFTYONE_CVAT_URL") > annotation.read_at("FIFTYONE_CVAT_USERNAME")
        assert annotation.revision == annotation.read_at("FIFTYONE_CVAT_URL")


VALUES = [
    "https://values.example/v2",
    "line one\nline two\r\nline three\rend",
    "data: forged\n\nid: 999999\nevent: revoked\n\n",
    "\u2028\u2029 \x00\x01\x1f\x7f caf\u00e9 \U0001f511 \u4e2d\u6587",
    # A value whose event line is over 200 KB (each byte escaped in six), as its request was.
    "\x1f" * 40_000,
]


def test_with_one_plugin_the_value_arrives_with_its_change_and_nothing_is_resolved(service):
    issued = service.issue_token("values-mode", plugins=["@voxel51/annotation"])
    service.put_secret("FIFTYONE_CVAT_URL", "https://values.example/v1")
    with SecretsClient(service.url, issued["token"], service.ca_file, env={}) as client:
        ctx = client.hydrate(MANIFEST)
        eventually(lambda: ctx.live, timeout=5)
        before = settled_reads(service, issued["id"])
        assert all(how == "resolve" for _, how in before)
        for value in VALUES:
            service.put_secret("FIFTYONE_CVAT_URL", value)
            eventually(lambda: ctx.secrets.get("FIFTYONE_CVAT_URL") == value, timeout=2)
        # Each value was recorded as delivered over the stream, and none was resolved.
        assert settled_reads(service, issued["id"])[len(before):] == [(["FIFTYONE_CVAT_URL"], "stream")] * len(VALUES)


def test_a_context_of_another_plugin_turns_the_stream_value_free_and_changes_are_resolved(service):
    issued = service.issue_token("scope-change", plugins=["@voxel51/annotation", "@example/other"])
    service.put_secret("FIFTYONE_CVAT_URL", "https://scope.example/v1")
    with SecretsClient(service.url, issued["token"], service.ca_file, env={}) as client:
        annotation = client.hydrate(MANIFEST)
        eventually(lambda: annotation.live, timeout=5)
        service.put_secret("FIFTYONE_CVAT_URL", "https://scope.example/v2")
        eventually(lambda: annotation.secrets.get("FIFTYONE_CVAT_URL") == "https://scope.example/v2", timeout=2)
        assert settled_reads(service, issued["id"])[-1] == (["FIFTYONE_CVAT_URL"], "stream")
        other = client.hydrate(OTHER_PLUGIN)
        eventually(lambda: annotation.live, timeout=5)
        before = settled_reads(service, issued["id"])
        service.put_secret("FIFTYONE_CVAT_URL", "https://scope.example/v3")
        eventually(lambda: annotation.secrets.get("FIFTYONE_CVAT_URL") == other.secrets.get("FIFTYONE_CVAT_URL") == "https://scope.example/v3", timeout=2)
        assert settled_reads(service, issued["id"])[len(before):] == [(["FIFTYONE_CVAT_URL"], "resolve")] * 2


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


def test_in_values_mode_too_a_context_whose_read_failed_is_read_whole_at_the_next_change(tmp_path):
    """A value-less event (catch-up, a removal) whose read failed leaves the context owing a read:
    the next pushed value does not settle it, a read of every key does."""
    service = Service(tmp_path / "data").start()
    try:
        token = service.issue_token("owed-values", plugins=["@voxel51/annotation"])["token"]
        service.put_secret("FIFTYONE_CVAT_URL", "https://owed.example/v1")
        service.put_secret("FIFTYONE_CVAT_USERNAME", "owed-user-1")
        scope = ValuesScope("@voxel51/annotation", tuple(sorted(MANIFEST.store_keys)))
        # The events are handed to the client by this test, as its values-mode stream would.
        with SecretsClient(service.url, token, service.ca_file, env={}, follow_changes=False) as client:
            ctx = client.hydrate(MANIFEST)
            revision = ctx.revision
            service.put_secret("FIFTYONE_CVAT_USERNAME", "owed-user-2")
            service.stop()
            client.change({"key": "FIFTYONE_CVAT_USERNAME", "revision": revision + 1, "withheld": "catch-up"}, scope)
            assert ctx.stale
            service.start()
            service.put_secret("FIFTYONE_CVAT_URL", "https://owed.example/v2")
            client.change({"key": "FIFTYONE_CVAT_URL", "revision": revision + 2, "value": "https://owed.example/v2"}, scope)
            assert ctx.secrets.get("FIFTYONE_CVAT_URL") == "https://owed.example/v2"
            assert ctx.secrets.get("FIFTYONE_CVAT_USERNAME") == "owed-user-2"
            assert not ctx.stale
    finally:
        service.stop()


def test_without_a_stream_no_scope_is_waited_for():
    """With follow_changes=False no stream opens: a hydrate that changes the scope has nothing to wait for."""
    scope = ValuesScope("@voxel51/annotation", ("FIFTYONE_CVAT_URL",))
    assert ChangeFollower(http=None, handlers=None, resync_interval=300, follow=False).follow(scope) is None
    # Control: a follower that opens streams hands back what to wait for, once per new scope.
    following = ChangeFollower(http=None, handlers=None, resync_interval=300, follow=True)
    assert following.follow(scope) is not None
    assert following.follow(scope) is None


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
        if len(asked) == 1 and secrets and rng.random() < 0.5:
            # As the values-mode stream pushes it: the key's value at that revision.
            context.apply_pushed(asked[0], secrets[asked[0]], revision)
            continue
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
