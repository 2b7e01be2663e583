"""Runs the example plugin on its own: `python3 examples/annotation-plugin`.

It reports the annotation backends its environment configures, then keeps running the way a
plugin's worker does, until it is stopped. Under `secrets-ledger run --watch` a change to one of
its secrets stops it (SIGTERM) and starts it again with the new environment.
"""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backends import configured_backends, default_backend  # noqa: E402


def stop(signum, frame):
    print("annotation plugin: stopping", flush=True)
    sys.exit(0)


def main():
    signal.signal(signal.SIGTERM, stop)
    report = {"default": default_backend(), "backends": configured_backends()}
    print("annotation plugin: " + json.dumps(report, sort_keys=True), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
