"""A plugin's hydrated context: its declared secrets, kept current by the client (SPEC §5)."""

import logging
import os
import threading

from .errors import MissingSecretError, UndeclaredSecretError

log = logging.getLogger("secrets_ledger")

# Where a declared key's value comes from:
# - "env-first" (default, FiftyOne Teams' order): a non-empty environment variable named like
#   the key wins over the stored value;
# - "store-first": the stored value, else a non-empty environment variable;
# - "store-only": the stored value alone.
# An empty variable never counts: `FOO=` must not hide a stored FOO.
PRECEDENCES = ("env-first", "store-first", "store-only")


class SecretsAccessor:
    """The read side of a context: values of declared keys only, and never printable. Reads
    FiftyOne's way too: `ctx.secrets["KEY"]` is the value or None, like FiftyOne's `ctx.secrets`."""

    __slots__ = ("_context",)

    def __init__(self, context):
        self._context = context

    def get(self, key, default=None):
        resolved = self._context._effective(key)
        return default if resolved is None else resolved[0]

    def __getitem__(self, key):
        return self.get(key)

    def require(self, key):
        """The value, or a MissingSecretError naming the key."""
        value = self.get(key)
        if value is None:
            raise MissingSecretError(key, self._context.plugin)
        return value

    def has(self, key):
        return self._context._effective(key) is not None

    __contains__ = has

    def keys(self):
        """The declared keys that have a value right now."""
        return [key for key in self._context.declared if self.has(key)]

    def source(self, key):
        """"env", "store", or None when the key has no value."""
        resolved = self._context._effective(key)
        return None if resolved is None else resolved[1]

    def __repr__(self):
        return f"<SecretsAccessor {self._context.plugin}: {', '.join(self.keys())}>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("secrets are not picklable")


class PluginContext:
    """Values live in a private snapshot and leave only through `secrets.get/[]/require`.
    Safe to read from any thread; listeners run on the thread that refreshed the context."""

    def __init__(self, manifest, precedence="env-first", env=None):
        if precedence not in PRECEDENCES:
            raise ValueError(f"precedence must be one of {', '.join(PRECEDENCES)}")
        self.plugin = manifest.name
        self.declared = tuple(dict.fromkeys(manifest.secrets))
        self._declared = frozenset(self.declared)
        self.store_keys = tuple(manifest.store_keys)
        self._store_keys = frozenset(self.store_keys)
        self.secrets = SecretsAccessor(self)
        self._precedence = precedence
        self._env = os.environ if env is None else env
        self._lock = threading.Lock()
        self._stored = {}
        # The revision of the reply each store key was last read in: a delta reads some keys only.
        self._read_at = {}
        self._revision = -1
        self._stale = False
        self._live = False
        self._change_listeners = []
        self._live_listeners = []

    @property
    def stale(self):
        """True while the service could not be reached on the last attempt; the last values stay."""
        return self._stale

    @property
    def live(self):
        """True while changes reach this context as they happen (the change stream is connected)."""
        return self._live

    @property
    def revision(self):
        """The newest store-wide revision among the replies taken, full or delta (-1 before the
        first). Each key was read at its own revision (`read_at`): a delta reads only the keys
        that changes named, and vouches for the others only as far as the change stream does
        (a lost change is a revision gap, and the client then resolves every key again)."""
        return self._revision

    def read_at(self, key):
        """The revision of the reply a store key was last read in (-1 while never read)."""
        return self._read_at.get(key, -1)

    def declares(self, key):
        return key in self._declared

    def on_change(self, listener):
        """`listener(keys)` after a refresh changed the effective value of `keys` (names only).
        Returns the listener, so it can be used as a decorator."""
        with self._lock:
            self._change_listeners.append(listener)
        return listener

    def on_live(self, listener):
        """`listener(live)` each time `live` changes."""
        with self._lock:
            self._live_listeners.append(listener)
        return listener

    def apply_snapshot(self, reply, asked_at=-1):
        """Takes a reply to a resolve of every store key. See `apply_delta`."""
        return self.apply_delta(reply, self.store_keys, asked_at)

    def apply_delta(self, reply, keys, asked_at=-1):
        """Takes a reply to a resolve of `keys`; the other keys keep what they hold. Replies can
        overtake each other, and a delta reads fewer keys than a snapshot, so each key keeps
        whichever read of it is newest: the reply updates the keys it asked for that were last
        read at its revision or before. A key asked for and not in `secrets` (missing, removed,
        unreadable, expired) has no stored value. Tells the listeners which keys' effective
        values moved.

        `asked_at` is the context's `revision` when the resolve was sent. The service reads
        committed state, so a reply below it means the service's log went back (restored from a
        backup, or another database): the reads held are of a history the service no longer
        has, and would hide its values until its revisions passed them again, so the context
        forgets them and takes the reply. Returns whether that happened."""
        with self._lock:
            self._stale = False
            revision = reply["revision"]
            went_back = revision < asked_at
            if went_back:
                self._read_at = dict.fromkeys(self._read_at, -1)
                self._revision = -1
            before = [self._effective_unlocked(key) for key in self.declared]
            secrets = reply.get("secrets") or {}
            for key in keys:
                if key not in self._store_keys or self._read_at.get(key, -1) > revision:
                    continue
                value = secrets.get(key)
                if isinstance(value, str):
                    self._stored[key] = value
                else:
                    self._stored.pop(key, None)
                self._read_at[key] = revision
            self._revision = max(self._revision, revision)
            changed = [key for key, old in zip(self.declared, before) if self._effective_unlocked(key) != old]
            listeners = list(self._change_listeners)
        if changed:
            _notify(listeners, changed, "change")
        return went_back

    def apply_pushed(self, key, value, revision):
        """Takes one key's value as the service pushed it on the client's values-mode stream: the
        value the key took at `revision`, a read of that key alone at that revision. A read of
        the key at least as new is kept."""
        if self.read_at(key) >= revision:
            return
        self.apply_delta({"secrets": {key: value}, "revision": revision}, (key,))

    def mark_stale(self):
        self._stale = True

    def mark_live(self, live):
        with self._lock:
            if live == self._live:
                return
            self._live = live
            listeners = list(self._live_listeners)
        _notify(listeners, live, "live")

    def __repr__(self):
        state = "".join([" stale" if self._stale else "", " live" if self._live else ""])
        return f"<PluginContext {self.plugin} revision {self._revision}{state}>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a plugin context is not picklable")

    def _effective(self, key):
        if key not in self._declared:
            raise UndeclaredSecretError(key, self.plugin)
        return self._effective_unlocked(key)

    def _effective_unlocked(self, key):
        from_env = None if self._precedence == "store-only" else (self._env.get(key) or None)
        from_store = self._stored.get(key)
        if from_env is not None and (self._precedence == "env-first" or from_store is None):
            return (from_env, "env")
        return None if from_store is None else (from_store, "store")


def _notify(listeners, argument, what):
    for listener in listeners:
        try:
            listener(argument)
        except Exception as error:  # a listener's fault is its own: the others still hear
            # The type only: the message could hold whatever the listener had in hand.
            log.error("secrets_ledger: a %s listener raised %s", what, type(error).__name__)


__all__ = ["PluginContext", "SecretsAccessor", "PRECEDENCES"]
