import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from service import EXAMPLES, Service  # noqa: E402

ANNOTATION_PLUGIN = EXAMPLES / "annotation-plugin"


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    """One service for every test that does not stop it."""
    running = Service(tmp_path_factory.mktemp("ledger") / "data").start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def executor_token(service):
    return service.issue_token("python-tests", plugins=["@voxel51/annotation"])["token"]


def eventually(check, timeout=5.0, interval=0.01):
    """Polls `check` until it returns a true value (returned) or `timeout` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except AssertionError:
            result = None
            if time.monotonic() >= deadline:
                raise
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(interval)


class Changes:
    """What `on_change` listeners heard, and when, for tests that wait for a change."""

    def __init__(self):
        self.heard = []
        self._event = threading.Event()

    def __call__(self, keys):
        self.heard.append((time.monotonic(), list(keys)))
        self._event.set()
