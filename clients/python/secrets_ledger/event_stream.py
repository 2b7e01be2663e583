"""Server-Sent Events as the service sends them on `GET /api/v1/changes` (SPEC §3): `id`,
`event` and `data` fields, comment lines as heartbeats, a blank line ending each event."""

from dataclasses import dataclass
from typing import Optional

# One line of an event is a notification's JSON, with a value in values mode: a value came in a
# request body of at most 256 KiB and goes out escaped as it came in, so a longer line is not ours.
MAX_LINE_BYTES = 512 * 1024


@dataclass(frozen=True)
class StreamEvent:
    event: str
    data: str
    id: Optional[str]


class EventStreamParser:
    """Feeds on lines, yields whole events. Keeps the id of the last event that ended, which is
    what a reconnect sends as `Last-Event-ID` (an `id:` line of an event the stream cut off
    before its blank line does not count: resuming after it would skip that event), and the
    `retry` the service asked for (milliseconds)."""

    def __init__(self, last_id=None):
        self.last_id = last_id
        self.retry_ms = None
        self._id = last_id
        self._event = ""
        self._data = []

    def feed(self, line):
        """`line` without its line ending. Returns a StreamEvent when `line` ends one, else None."""
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self):
        self.last_id = self._id
        event, data = self._event or "message", self._data
        self._event, self._data = "", []
        if not data and event == "message":
            return None
        return StreamEvent(event=event, data="\n".join(data), id=self.last_id)


def read_lines(response):
    """The lines of a streamed response, decoded, without their endings, until it ends."""
    while True:
        raw = response.readline(MAX_LINE_BYTES)
        if not raw:
            return
        if not raw.endswith(b"\n") and len(raw) >= MAX_LINE_BYTES:
            raise ValueError("an event stream line longer than any the service sends")
        yield raw.decode("utf-8").rstrip("\r\n")
