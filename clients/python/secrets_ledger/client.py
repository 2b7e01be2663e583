"""The executor client (SPEC §5), as the TypeScript SDK has it."""

import logging
import os
import threading
from collections.abc import Mapping

from .change_follower import MAX_STREAM_KEYS, ChangeFollower, ValuesScope
from .context import PRECEDENCES, PluginContext
from .errors import SecretsLedgerError, SecretsServiceError, ServiceSettingError, TokenRevokedError
from .manifest import PluginManifest, parse_manifest
from .service_address import DEFAULT_SERVICE_URL, service_token, service_url
from .service_http import ServiceHttp

log = logging.getLogger("secrets_ledger")

DEFAULT_RESYNC_SECONDS = 300.0
# How long a hydrate that changes the stream's values scope waits for the service to answer it.
SCOPE_ANSWER_SECONDS = 2.0


class SecretsClient:
    """Holds one hydrated context per manifest and keeps each current: a change to a declared key
    re-reads that key at once (a delta: the change costs the service the key it touched, not the
    manifest); a revision gap, a reconnect or the jittered periodic timer re-reads every key of
    every context. A read is `POST /api/v1/resolve` over a kept-alive connection, so the
    service's rules and audit apply. When every context that asks the store belongs to one
    plugin, the change stream is opened in values mode for it (SPEC §3): a change's value comes
    with its event, recorded by the service like a resolve, and nothing is asked. Otherwise
    change events carry no values: they only say when to ask. Safe to use from any thread; one
    background thread per client follows the change stream (started by the first `hydrate`)."""

    def __init__(
        self,
        url,
        token,
        ca_file=None,
        *,
        precedence="env-first",
        env=None,
        resync_interval=DEFAULT_RESYNC_SECONDS,
        timeout=5.0,
        follow_changes=True,
    ):
        """`url`: the service's base URL (`/api/v1` at its end is accepted). `token`: an executor
        token, sent to `url` only. `ca_file`: a PEM CA to trust for an https `url`.
        `precedence`: "env-first" (default), "store-first" or "store-only". `env`: where env-first
        and store-first look, read at each lookup (default `os.environ`). `resync_interval`: mean
        seconds between the backstop resyncs, each jittered ±20 %. `follow_changes=False` relies
        on that resync alone."""
        if precedence not in PRECEDENCES:
            raise ValueError(f"precedence must be one of {', '.join(PRECEDENCES)}")
        if not service_token(token, "the token"):
            raise ServiceSettingError("an executor token is required (SECRETS_TOKEN)")
        self._http = ServiceHttp(url, token, ca_file=ca_file, timeout=timeout)
        self._precedence = precedence
        self._env = env
        self._contexts = {}
        # Contexts whose refresh failed, with how many times: their next refresh reads every key,
        # whatever asks for it, since changes that named other keys may have been missed meanwhile.
        self._owed = {}
        self._lock = threading.Lock()
        self._hydrating = threading.Lock()
        self._last_notified = None
        self._live = False
        self._ended = None
        self._closed = False
        self._unreachable = None
        self._follower = ChangeFollower(self._http, self, resync_interval, follow=follow_changes)
        self._started = False

    @classmethod
    def from_env(cls, env=None, **options):
        """A client for SECRETS_URL (default http://127.0.0.1:3000), SECRETS_TOKEN and
        SECRETS_CA_FILE, read as the CLI and `run` read them. An `env` given here is also where
        the client looks up environment variables, unless `env=` says otherwise."""
        if env is not None:
            options.setdefault("env", env)
        env = os.environ if env is None else env
        url = service_url(env.get("SECRETS_URL") or DEFAULT_SERVICE_URL, "SECRETS_URL")
        token = service_token(env.get("SECRETS_TOKEN"), "SECRETS_TOKEN")
        if not token:
            raise ServiceSettingError("an executor token is required: set SECRETS_TOKEN")
        ca_file = env.get("SECRETS_CA_FILE") or None
        if ca_file is not None and not os.access(ca_file, os.R_OK):
            raise ServiceSettingError(f"SECRETS_CA_FILE: cannot read {ca_file}")
        return cls(url, token, ca_file, **options)

    def hydrate(self, manifest):
        """The context for a manifest (a `load_plugin_manifest` result, or a mapping with `name`
        and `secrets`): hydrated on first use, then the cached one. Raises when the first resolve
        fails: nothing is known yet, so nothing could be served."""
        if isinstance(manifest, Mapping):
            manifest = parse_manifest("the manifest given to hydrate", dict(manifest))
        if not isinstance(manifest, PluginManifest):
            raise TypeError("hydrate takes a PluginManifest (load_plugin_manifest) or a mapping with name and secrets")
        cache_key = (manifest.name, manifest.version, tuple(sorted(manifest.secrets)))
        with self._hydrating:
            self._check_open()
            context = self._contexts.get(cache_key)
            if context is not None:
                return context
            context = PluginContext(manifest, self._precedence, self._env)
            # Registered before its first resolve, so a change announced meanwhile refreshes it too.
            with self._lock:
                self._contexts[cache_key] = context
            try:
                self._refresh(context)
            except BaseException:
                with self._lock:
                    self._contexts.pop(cache_key, None)
                raise
            context.mark_live(self._live)
            answered = self._follower.follow(self._values_scope())
            if not self._started:
                self._started = True
                self._follower.start()
            elif answered is not None:
                answered.wait(SCOPE_ANSWER_SECONDS)
            return context

    def resync(self):
        """Refreshes every context now (what a gap, a reconnect and the timer do). A context the
        service cannot answer for keeps its values and is marked stale."""
        self._check_open()
        self._resync_all()
        if self._ended is not None:
            raise self._ended

    @property
    def live(self):
        """True while the change stream is connected."""
        return self._live

    @property
    def error(self):
        """Why the client ended (a TokenRevokedError), or None while it runs."""
        return self._ended

    def close(self):
        """Stops following changes and lets go of the connections. Contexts keep their last values."""
        self._closed = True
        self._follower.close()
        for context in self._all_contexts():
            context.mark_live(False)
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<SecretsClient {self._http.url}{' live' if self._live else ''}{' ended' if self._ended else ''}>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a secrets client is not picklable")

    # What the change follower calls, on its thread.

    def connected(self, resumed_from):
        # The stream resumes after `resumed_from`, so the next event is the one after it; whatever
        # happened while we were away (or before we first connected) is fetched again anyway.
        self._last_notified = resumed_from
        self._set_live(True)
        self._resync_all()

    def lost(self):
        self._set_live(False)
        # Asks at once: an unreachable service marks every context stale now, not at the next timer.
        self._resync_all()

    def unreachable(self, problem):
        # Each failed attempt to reopen the stream is an attempt to reach the service.
        for context in self._all_contexts():
            context.mark_stale()
        self._say_unreachable(problem)

    def periodic_resync(self):
        self._resync_all()

    def change(self, notification, scope=None):
        if scope is not None:
            self._values_change(notification, scope)
            return
        revision = notification["revision"]
        previous, self._last_notified = self._last_notified, revision
        if previous is not None and revision > previous + 1:
            # A gap: some change never reached us. Only a full resync is sure to be right.
            self._resync_all()
            return
        # Only the key it names, in each context whose read of that key is older (not a duplicate or a replay).
        key = notification["key"]
        for context in self._all_contexts():
            if self._ended is not None or self._closed:
                return
            if key in context.store_keys and revision > context.read_at(key):
                self._try_refresh(context, (key,))

    def _values_change(self, notification, scope):
        """A change on the values-mode stream: it carries only the scope's keys and loses none (it
        resumes from its last id), so there is no gap to watch for. A pushed value goes into the
        contexts at once; a change without one (a removal, catch-up, a withheld value) is read as
        a notification's key is."""
        key, revision, value = notification["key"], notification["revision"], notification.get("value")
        for context in self._all_contexts():
            if self._ended is not None or self._closed:
                return
            if key not in context.store_keys or revision <= context.read_at(key):
                continue
            # A context whose last refresh failed is read whole, whatever the event brings.
            if isinstance(value, str) and context.plugin == scope.plugin and key in scope.keys and not self._owes(context):
                context.apply_pushed(key, value, revision)
            else:
                self._try_refresh(context, (key,))

    def revoked(self, how):
        self._end(TokenRevokedError(self._http.url, how))

    # Internals.

    def _resync_all(self):
        self._refresh_all(self._all_contexts())

    def _refresh_all(self, contexts):
        for context in contexts:
            if self._ended is not None or self._closed:
                return
            self._try_refresh(context)

    def _try_refresh(self, context, keys=None):
        try:
            self._refresh(context, keys)
        except SecretsLedgerError:
            pass  # said by _refresh (a warning, the context stale, or the end)

    def _refresh(self, context, keys=None):
        """Reads `keys` of a context (a delta), or every store key when None or when the
        context's last refresh failed."""
        failures = self._owes(context)
        full = keys is None or failures > 0
        asked = context.store_keys if full else tuple(key for key in context.store_keys if key in keys)
        # Nothing the store could hold (no keys, or only environment-only ones): nothing to ask.
        if not asked:
            return
        asked_at = context.revision
        try:
            reply = self._http.resolve(context.plugin, asked)
        except SecretsServiceError as error:
            if error.status == 401:
                self._end(TokenRevokedError(self._http.url, f"refuses this client's token ({error.status}: {error.detail})"))
                raise self._ended from None
            self._owe(context)
            raise
        except SecretsLedgerError as error:
            self._owe(context)
            self._say_unreachable(str(error))
            raise
        self._say_unreachable(None)
        with self._lock:
            # Settled, unless another refresh of it failed meanwhile.
            if full and self._owed.get(context, 0) == failures:
                self._owed.pop(context, None)
        if context.apply_delta(reply, asked, asked_at):
            log.warning(
                "secrets_ledger: the service at %s answered revision %d after this client had read revision %d: "
                "its log went back (restored from a backup, or another database); %s now takes its values as they are",
                self._http.url, reply["revision"], asked_at, context.plugin)
            if not full:
                # The keys this delta did not ask for were read in the lost history too.
                self._refresh(context)

    def _owes(self, context):
        """How many refreshes of the context failed since it was last read whole."""
        with self._lock:
            return self._owed.get(context, 0)

    def _owe(self, context):
        context.mark_stale()
        with self._lock:
            self._owed[context] = self._owed.get(context, 0) + 1

    def _say_unreachable(self, problem):
        """One warning per new reason the service cannot answer, one line when it answers again."""
        if problem is not None and problem != self._unreachable:
            log.warning("secrets_ledger: %s; keeping the last values (stale)", problem)
        elif problem is None and self._unreachable is not None:
            log.info("secrets_ledger: the secrets service answers again")
        self._unreachable = problem

    def _end(self, error):
        if self._ended is not None:
            return
        self._ended = error
        log.error("secrets_ledger: %s", error)
        # As the TypeScript SDK: the contexts keep their last values, stale, and nothing refreshes them.
        self._set_live(False)
        for context in self._all_contexts():
            context.mark_stale()
        self._follower.close(timeout=0)

    def _set_live(self, live):
        self._live = live
        for context in self._all_contexts():
            context.mark_live(live)

    def _values_scope(self):
        """When every context that asks the store shares one plugin, that plugin and their keys (a
        stream carries one plugin's values); otherwise None, a value-free stream."""
        asking = [context for context in self._all_contexts() if context.store_keys]
        plugins = {context.plugin for context in asking}
        if len(plugins) != 1:
            return None
        keys = tuple(sorted({key for context in asking for key in context.store_keys}))
        return ValuesScope(plugins.pop(), keys) if len(keys) <= MAX_STREAM_KEYS else None

    def _all_contexts(self):
        with self._lock:
            return list(self._contexts.values())

    def _check_open(self):
        if self._ended is not None:
            raise self._ended
        if self._closed:
            raise SecretsLedgerError("this secrets client is closed")
