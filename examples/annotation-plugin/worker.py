"""The example plugin's long-running worker, with its secrets in-process:
`PYTHONPATH=clients/python python3 examples/annotation-plugin/worker.py`.

It reads the plugin's secrets the way FiftyOne's resolver does, through
`secrets_ledger.fiftyone.LedgerSecretProvider` (SECRETS_URL, SECRETS_TOKEN, and the plugins under
FIFTYONE_PLUGINS_DIR — by default the folder holding this plugin). It reports the configured
backends at start and again whenever an admin changes one of its secrets: the same process, no
restart, so a worker's running jobs carry on. Inside FiftyOne, `secrets_ledger.fiftyone.install()`
puts the same provider behind every operator's `ctx.secrets`.
"""

import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backends import BACKENDS, configured_backends, default_backend  # noqa: E402

from secrets_ledger.fiftyone import LedgerSecretProvider  # noqa: E402

KEYS = ["FIFTYONE_ANNOTATION_DEFAULT_BACKEND"] + [key for location, credentials in BACKENDS.values() for key in [location, *credentials]]


def main():
    os.environ.setdefault("FIFTYONE_PLUGINS_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    provider = LedgerSecretProvider()

    def report(changed):
        # What an operator run would see now: one get_sync per key, as FiftyOne's ctx.secrets asks.
        values = {key: secret.value for key in KEYS if (secret := provider.get_sync(key))}
        line = {"pid": os.getpid(), "changed": changed, "default": default_backend(values), "backends": configured_backends(values)}
        print("annotation worker: " + json.dumps(line, sort_keys=True), flush=True)

    report([])
    provider.on_change(report)
    stopped.wait()
    provider.close()
    print("annotation worker: stopping", flush=True)


if __name__ == "__main__":
    main()
