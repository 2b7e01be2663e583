"""`python3 bench/python-propagation.py [samples]` (after `npm run build`): how long a change takes
to reach a Python client's context, and what it costs the service, per way the client hears of
it. A real `serve` (over HTTPS, as clients/python/tests start it); one change at a time, timed
from the admin's answer to the context holding the new value; the SecretsResolved entries the
client's token caused, read from the audit trail afterwards. Medians and p99 in ms."""

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "clients" / "python"), str(ROOT / "clients" / "python" / "tests")]

from service import EXAMPLES, Service  # noqa: E402

from secrets_ledger import SecretsClient, load_plugin_manifest  # noqa: E402

MANIFEST = load_plugin_manifest(EXAMPLES / "annotation-plugin")
OTHER = {"name": "@bench/other", "secrets": ["OTHER_KEY"]}


def measure(service, name, plugins, samples):
    issued = service.issue_token(name, plugins=plugins)
    with SecretsClient(service.url, issued["token"], service.ca_file, env={}) as client:
        ctx = client.hydrate(MANIFEST)
        if len(plugins) > 1:
            client.hydrate(OTHER)  # a second plugin: the stream is value-free, changes are resolved
        while not ctx.live:
            time.sleep(0.01)
        time.sleep(0.5)
        _, before = service.request("GET", f"audit?type=SecretsResolved&actor={issued['id']}&limit=1000")
        latencies = []
        for n in range(samples):
            value = f"https://{name}.example/{n}"
            service.put_secret("FIFTYONE_CVAT_URL", value)
            answered = time.perf_counter()
            while ctx.secrets.get("FIFTYONE_CVAT_URL") != value:
                time.sleep(0.0002)
            latencies.append((time.perf_counter() - answered) * 1000)
        time.sleep(0.5)
    _, page = service.request("GET", f"audit?type=SecretsResolved&actor={issued['id']}&limit=1000")
    if page.get("next"):
        raise SystemExit("more entries than one page holds: take fewer samples")
    entries = page["items"][len(before["items"]):]
    keys = sum(len(entry["data"]["keys"]) + len(entry["data"]["missing"]) for entry in entries)
    pushed = sum(1 for entry in entries if entry["data"].get("via") == "stream")
    latencies.sort()
    print(
        f"{name:12} p50 {statistics.median(latencies):6.2f} ms  p99 {latencies[int(len(latencies) * 0.99) - 1]:6.2f} ms  "
        f"per change: {len(entries) / samples:.2f} entries, {keys / samples:.2f} keys read, {pushed / samples:.2f} pushed"
    )


def main():
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as scratch:
        service = Service(Path(scratch) / "data").start()
        try:
            measure(service, "values-mode", ["@voxel51/annotation"], samples)
            measure(service, "delta", ["@voxel51/annotation", "@bench/other"], samples)
        finally:
            service.stop()


if __name__ == "__main__":
    main()
