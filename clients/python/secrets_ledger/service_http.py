"""The client's HTTP(S) connections to the service: kept alive, so a refresh after a change costs
one round trip, not a TCP (and TLS) handshake as well. Safe to share between threads: each
request takes an idle connection or opens one."""

import http.client
import json
import socket
import ssl
import threading
from urllib.parse import urlencode, urlsplit

from .errors import SecretsServiceError, SecretsServiceUnreachableError, ServiceSettingError
from .service_address import redact_url, service_token, service_url

MAX_REPLY_BYTES = 32 * 1024 * 1024
_IDLE_CONNECTIONS = 4
_TLS_PROBE_SECONDS = 2.0


class ServiceHttp:
    def __init__(self, url, token, ca_file=None, timeout=5.0):
        self._base = service_url(url, "the secrets service URL")
        self.__token = service_token(token, "the token")
        self.timeout = timeout
        parts = urlsplit(self._base)
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path  # ends in "/"
        try:
            self._tls = ssl.create_default_context(cafile=ca_file) if self._https else None
        except (OSError, ssl.SSLError) as error:
            raise ServiceSettingError(f"the CA file {ca_file} cannot be used ({type(error).__name__}: {error.strerror or error})") from None
        self._idle = []
        self._lock = threading.Lock()
        self.url = redact_url(self._base)

    def __repr__(self):
        return f"<ServiceHttp {self.url}>"

    def resolve(self, plugin, keys):
        """`POST /api/v1/resolve`: `{secrets, missing, unreadable?, revision}` (SPEC §3)."""
        body = json.dumps({"plugin": plugin, "keys": list(keys)}).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        # A kept-alive connection the service closed meanwhile fails on first use: once more on a
        # fresh one. Resolving reads only, so asking twice changes nothing.
        for attempt in (1, 2):
            connection, reused = self._take()
            try:
                status, reply = self._exchange(connection, "POST", "api/v1/resolve", body, headers)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                connection.close()
                if reused and attempt == 1:
                    continue
                raise self._unreachable(error) from None
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                raise self._unreachable(error) from None
            self._give_back(connection)
            if not 200 <= status < 300:
                raise SecretsServiceError(status, _detail(reply, status))
            if not _is_resolve_reply(reply):
                raise SecretsServiceError(status, "an answer that is not a resolve reply (a proxy in the way?)")
            return reply

    def open_stream(self, last_event_id=None, scope=None):
        """`GET /api/v1/changes` on a connection of its own: (connection, response). The caller
        reads the response and closes the connection; any status but 200 raises. `scope`, a
        ValuesScope: values mode for that plugin's keys (SPEC §3); None: value-free."""
        connection = self._connect()
        headers = {"Accept": "text/event-stream", "Authorization": self._authorization()}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        path = self._prefix + "api/v1/changes"
        if scope is not None:
            path += "?" + urlencode({"values": "true", "plugin": scope.plugin, "keys": ",".join(scope.keys)}, safe=",")
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise self._unreachable(error) from None
        if response.status != 200:
            try:
                reply = _read_json(response)
            except (OSError, http.client.HTTPException):
                reply = None
            connection.close()
            error = SecretsServiceError(response.status, _detail(reply, response.status))
            error.retry_after = _seconds(response.getheader("Retry-After"))
            raise error
        return connection, response

    def close(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _exchange(self, connection, method, path, body, headers):
        connection.request(method, self._prefix + path, body=body, headers={**headers, "Authorization": self._authorization()})
        response = connection.getresponse()
        reply = _read_json(response)
        if response.will_close:
            connection.close()
        return response.status, reply

    def _authorization(self):
        return f"Bearer {self.__token}"

    def _take(self):
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def _give_back(self, connection):
        if connection.sock is None:
            return
        with self._lock:
            if len(self._idle) < _IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()

    def _connect(self):
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout, context=self._tls)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _unreachable(self, error):
        return SecretsServiceUnreachableError(self.url, self._describe(error))

    def _describe(self, error):
        """One line for a failed connection, saying what to change when the scheme does not match
        the port (as the TypeScript SDK says it)."""
        where = f"{self._host}:{self._port}" if ":" not in self._host else f"[{self._host}]:{self._port}"
        text = str(error) or type(error).__name__
        if isinstance(error, ssl.SSLCertVerificationError):
            return (
                f"its TLS certificate is not trusted ({error.verify_message}); "
                "give the CA that signed it (SECRETS_CA_FILE, or the client's ca_file)"
            )
        if self._https and isinstance(error, ssl.SSLError) and any(
            sign in text.lower() for sign in ("wrong version number", "packet length too long", "http request")
        ):
            return f"{where} answers plain HTTP, not HTTPS: use http://{where}"
        if not self._https and isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError)) and self._speaks_tls():
            return f"{where} answers HTTPS, not plain HTTP: use https://{where}"
        if isinstance(error, socket.timeout):
            return f"no answer within {self.timeout:g} s"
        if isinstance(error, ConnectionRefusedError):
            return "connection refused (ECONNREFUSED)"
        return f"{text} ({type(error).__name__})"

    def _speaks_tls(self):
        # Only the handshake is wanted: whether the certificate is trusted is another question.
        probe = ssl.create_default_context()
        probe.check_hostname = False
        probe.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection((self._host, self._port), timeout=_TLS_PROBE_SECONDS) as raw:
                with probe.wrap_socket(raw, server_hostname=self._host):
                    return True
        except (OSError, ssl.SSLError):
            return False


def _read_json(response):
    text = response.read(MAX_REPLY_BYTES + 1)
    if len(text) > MAX_REPLY_BYTES:
        raise http.client.HTTPException("reply too large")
    try:
        return json.loads(text.decode("utf-8")) if text else None
    except ValueError:
        # Not JSON (a proxy's error page): the status still says what happened.
        return None


def _is_resolve_reply(reply):
    return (
        isinstance(reply, dict)
        and isinstance(reply.get("secrets"), dict)
        and type(reply.get("revision")) is int
    )


def _seconds(header):
    """`Retry-After` in seconds, when it is a number of them."""
    try:
        seconds = float(header) if header else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 < seconds < 3600 else None


def _detail(reply, status):
    detail = reply.get("detail") if isinstance(reply, dict) else None
    if isinstance(detail, str):
        return detail
    return http.client.responses.get(status, "error")
