"""The client's one background thread: follows the service's change stream, reconnecting with
`Last-Event-ID` after any break, and runs the jittered periodic resync between reads."""

import json
import logging
import random
import socket
import threading
import time
from typing import NamedTuple, Tuple

from .errors import SecretsServiceError, SecretsServiceUnreachableError
from .event_stream import EventStreamParser, read_lines

log = logging.getLogger("secrets_ledger")

# The service sends a comment at least every 15 s: silence for three of those is a dead connection.
STREAM_SILENCE_SECONDS = 45.0
# Each wait before reconnecting is about as long as the outage so far, within these, ±20 %.
RECONNECT_MIN_SECONDS = 0.25
RECONNECT_MAX_SECONDS = 5.0


# A values-mode stream names at most as many keys as one resolve may ask for (SPEC §3).
MAX_STREAM_KEYS = 256


class ValuesScope(NamedTuple):
    """What a values-mode stream carries the values of: one plugin's keys."""

    plugin: str
    keys: Tuple[str, ...]


class ChangeFollower:
    """Calls, on its own thread: `connected(resumed_from)` when a stream is open (before its first
    event), `change(notification, scope)` per change event (`scope`: the ValuesScope of the stream
    that carried it, None for a value-free one), `lost()` when a stream broke, `unreachable(problem)`
    when a stream cannot be opened for want of the service, `revoked(how)`
    when the service revoked or refuses the token (then it stops), and `periodic_resync()`
    when the periodic timer is due. With `follow=False` it only runs the timer. Value-free until
    given a scope (`follow`): then it asks for that plugin's keys' values, and a new scope
    reopens the stream at once from its last id."""

    def __init__(self, http, handlers, resync_interval, follow=True):
        self._http = http
        self._handlers = handlers
        self._resync_interval = resync_interval
        self._follow = follow
        self._stop = threading.Event()
        self._connection = None
        self._connection_lock = threading.Lock()
        self._parser = EventStreamParser()
        self._next_resync = self._jittered()
        self._warned = None
        self._connection_opened = False
        self._retry_after = None
        self._scope = None
        # Set when the scope changed: the stream's end is then no outage, and it reopens at once.
        self._reopen = threading.Event()
        self._answered = threading.Event()
        self._thread = threading.Thread(target=self._run, name="secrets-ledger-changes", daemon=True)

    def start(self):
        self._thread.start()

    def follow(self, scope):
        """Follows in values mode for `scope` (None: value-free). Returns an Event set once the
        service has answered the stream opened for it, or None when no stream will open for it
        (nothing changed, or `follow=False`)."""
        if not self._follow:
            return None
        with self._connection_lock:
            if scope == self._scope:
                return None
            self._scope = scope
            self._answered.clear()
            self._reopen.set()
        # The old stream's end is not a loss: the new one resumes from the same last id.
        self._wake()
        return self._answered

    def close(self, timeout=5.0):
        self._stop.set()
        self._wake()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _wake(self):
        """Ends the stream being read, waking the thread from its blocking read."""
        with self._connection_lock:
            connection = self._connection
        if connection is not None and connection.sock is not None:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self):
        outage_began = None
        while not self._stop.is_set():
            if not self._follow:
                self._wait(self._resync_interval)
                continue
            reason = self._follow_once()
            if reason is None or self._stop.is_set():
                return
            if self._reopen.is_set():
                continue
            if outage_began is None:
                outage_began = time.monotonic()
                self._handlers.lost()
            # A stream that broke after opening is simply reopened; one that cannot open is news.
            if not self._connection_opened and reason != self._warned:
                self._warned = reason
                log.warning("secrets_ledger: cannot receive changes (%s); values change only at the periodic resync until then", reason)
            outage = time.monotonic() - outage_began
            backoff = min(max(outage, RECONNECT_MIN_SECONDS), RECONNECT_MAX_SECONDS) * random.uniform(0.8, 1.2)
            # A refusal that says when to come back (429 over the stream limits) is taken at its word.
            self._wait(self._retry_after or backoff)
            # A stream that opens ends the outage, not one that only answered.
            if self._connection_opened:
                outage_began = None

    def _follow_once(self):
        """One stream, from opening to its end. Returns why it ended, or None to stop for good."""
        self._connection_opened = False
        self._retry_after = None
        resumed_from = self._parser.last_id
        with self._connection_lock:
            scope = self._scope
            self._reopen.clear()
        try:
            connection, response = self._http.open_stream(resumed_from, scope)
        except SecretsServiceError as error:
            if error.status == 401:
                self._handlers.revoked(f"refuses this client's token ({error.status}: {error.detail})")
                return None
            self._retry_after = error.retry_after
            return f"GET /api/v1/changes answered {error.status}: {error.detail}"
        except SecretsServiceUnreachableError as error:
            self._handlers.unreachable(str(error))
            return str(error)
        with self._connection_lock:
            self._connection = connection
        try:
            if self._stop.is_set():
                return None
            if self._reopen.is_set():
                return "its values scope changed"
            connection.sock.settimeout(STREAM_SILENCE_SECONDS)
            self._connection_opened = True
            self._answered.set()
            if self._warned is not None:
                self._warned = None
                log.info("secrets_ledger: receiving changes again")
            self._handlers.connected(None if resumed_from is None else int(resumed_from))
            self._resync_if_due()
            for line in read_lines(response):
                event = self._parser.feed(line)
                if event is not None and self._dispatch(event, scope) is False:
                    return None
                self._resync_if_due()
            return "the service ended the change stream"
        except socket.timeout:
            return f"no heartbeat on the change stream for {STREAM_SILENCE_SECONDS:g} s"
        except (OSError, ValueError) as error:
            return f"the change stream broke ({type(error).__name__})"
        except Exception as error:  # http.client's own errors (IncompleteRead…)
            return f"the change stream broke ({type(error).__name__})"
        finally:
            with self._connection_lock:
                self._connection = None
            connection.close()

    def _dispatch(self, event, scope):
        if event.event == "revoked":
            self._handlers.revoked("revoked this client's token")
            return False
        if event.event != "change":
            return True
        try:
            notification = json.loads(event.data)
        except ValueError:
            return True
        if _is_notification(notification):
            self._handlers.change(notification, scope)
        return True

    def _wait(self, seconds):
        """Sleeps `seconds`, running the periodic resync if it falls due meanwhile."""
        until = time.monotonic() + seconds
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= until:
                return
            self._stop.wait(min(until, self._next_resync) - now)
            self._resync_if_due()

    def _resync_if_due(self):
        if self._stop.is_set() or time.monotonic() < self._next_resync:
            return
        # Jitter, so a fleet of executors started together does not resync in step.
        self._next_resync = self._jittered()
        try:
            self._handlers.periodic_resync()
        except Exception as error:  # the timer outlives any one failure
            log.error("secrets_ledger: the periodic resync failed (%s)", type(error).__name__)

    def _jittered(self):
        return time.monotonic() + self._resync_interval * random.uniform(0.8, 1.2)


def _is_notification(data):
    revision = data.get("revision") if isinstance(data, dict) else None
    return isinstance(data.get("key") if isinstance(data, dict) else None, str) and type(revision) is int and revision >= 0
