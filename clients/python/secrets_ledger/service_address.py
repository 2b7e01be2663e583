"""How a client reads "which service, with which token" (SPEC §6), by the same rules as the
TypeScript SDK, `run` and the CLI: a value pasted with a newline, a `Bearer ` in front or a
trailing `/api/v1` means the same thing to all of them."""

import re
from urllib.parse import urlsplit, urlunsplit

from .errors import ServiceSettingError

DEFAULT_SERVICE_URL = "http://127.0.0.1:3000"

# The characters of an RFC 6750 bearer token, as the service accepts them.
_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9._~+/=-]+")
_BEARER = re.compile(r"^Bearer\s+", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_API_ROOT = re.compile(r"/api/v1/?$")
# str.strip() and JavaScript's trim() agree on what whitespace is, near enough for a pasted value.


def service_token(raw, setting="SECRETS_TOKEN"):
    """The token in `raw` as people paste it: surrounding whitespace and an `Authorization`-style
    `Bearer ` prefix are dropped. Empty when nothing is left."""
    token = _BEARER.sub("", (raw or "").strip())
    if token and not _TOKEN_CHARACTERS.fullmatch(token):
        raise ServiceSettingError(
            f"{setting} holds characters no token has (whitespace or control characters inside it?): set it to the token alone, slt_…"
        )
    return token


def service_url(raw, setting="SECRETS_URL"):
    """The service's base address from `raw`, ending in `/`: an absolute http:// or https:// URL,
    with a trailing `/api/v1` taken as the service itself. A path in front of it (a proxy's
    prefix) is kept; a query and fragment are dropped. Errors name `setting`, never the value."""
    expected = "an address such as http://127.0.0.1:3000 or https://secrets.internal"
    trimmed = (raw or "").strip()
    if not _SCHEME.match(trimmed):
        raise ServiceSettingError(f"{setting} has no http:// or https:// in front: expected {expected}")
    try:
        parts = urlsplit(trimmed)
        parts.port  # raises on a port that is not a number
    except ValueError:
        raise ServiceSettingError(f"{setting} is not a valid URL: expected {expected}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ServiceSettingError(f"{setting} must start with http:// or https://, not {scheme}://: expected {expected}")
    if not parts.hostname or any(c.isspace() for c in trimmed):
        raise ServiceSettingError(f"{setting} is not a valid URL: expected {expected}")
    path = _API_ROOT.sub("/", parts.path or "/")
    if not path.endswith("/"):
        path += "/"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def redact_url(url):
    """`url` without user info, for messages and repr."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, "", "", ""))
