"""A real Secrets Ledger service process for the tests: `node dist/cli.js serve` on a temporary
data dir, and the admin API as an admin uses it. Nothing here imitates the service."""

import base64
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CLI = ROOT / "dist" / "cli.js"
EXAMPLES = ROOT / "examples"
START_SECONDS = 30


def node():
    found = os.environ.get("SECRETS_TEST_NODE") or shutil.which("node")
    if not found:
        raise RuntimeError("these tests start the service with node: put it on PATH (or set SECRETS_TEST_NODE)")
    return found


def new_admin_token():
    return "slt_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def make_certificates(directory):
    """A CA (`ca.pem`) and a certificate it signed for 127.0.0.1 (`service.pem`, `service.key`),
    made with the openssl CLI."""

    def openssl(*args):
        try:
            result = subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True)
        except FileNotFoundError:
            raise RuntimeError("these tests make certificates with openssl: apt-get install openssl") from None
        if result.returncode != 0:
            raise RuntimeError(f"openssl {args[0]} failed: {result.stderr}")

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=secrets-ledger python test CA", "-days", "2")
    openssl("req", *key, "-keyout", "service.key", "-out", "service.csr", "-subj", "/CN=127.0.0.1")
    (Path(directory) / "service.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "service.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "service.pem", "-extfile", "service.ext", "-days", "2")
    return str(Path(directory) / "ca.pem"), str(Path(directory) / "service.pem"), str(Path(directory) / "service.key")


class Service:
    """One service on `data_dir`, over HTTPS with a CA of its own (`ca_file`), so every test
    goes through the client's TLS as well. `stop()` and `start()` again keep the port and data."""

    def __init__(self, data_dir):
        if not CLI.exists():
            raise RuntimeError(f"{CLI} is missing: run `npm run build` first")
        self.data_dir = Path(data_dir)
        self.data_dir.parent.joinpath("tls").mkdir(exist_ok=True)
        self.ca_file, self._cert_file, self._key_file = make_certificates(self.data_dir.parent / "tls")
        self._tls = ssl.create_default_context(cafile=self.ca_file)
        self.admin_token = new_admin_token()
        self.port = 0
        self.url = None
        self.process = None
        self.log_path = self.data_dir.parent / (self.data_dir.name + ".log")

    def start(self):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LOG_LEVEL": "warn",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "METRICS_PORT": "0",
            "SECRETS_DATA_DIR": str(self.data_dir),
            "SECRETS_ADMIN_TOKEN": self.admin_token,
            "TLS_CERT_FILE": self._cert_file,
            "TLS_KEY_FILE": self._key_file,
            # Nothing listens there: every change these tests see comes over HTTP, not NATS.
            "NATS_URL": "nats://127.0.0.1:1",
        }
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([node(), str(CLI), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_SECONDS
        offset = self.log_path.stat().st_size if self.url else 0
        while time.monotonic() < deadline:
            match = re.search(r"secrets-ledger listening on https?://127\.0\.0\.1:(\d+)", self.output()[offset:])
            if match:
                # The line says http:// on loopback even when the service speaks HTTPS.
                self.port = int(match.group(1))
                self.url = f"https://127.0.0.1:{self.port}"
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"serve did not start within {START_SECONDS} s:\n{self.output()}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def output(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    # The admin API (SPEC §3), with the admin token.

    def request(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url.rstrip("/") + "/api/v1/" + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + (token or self.admin_token))
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10, context=self._tls) as response:
                text = response.read()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read()
            return error.code, (json.loads(text) if text else None)

    def put_secret(self, key, value):
        """Adds `key`, or sets its value when it exists."""
        status, _ = self.request("PATCH", "secrets/" + key, {"value": value})
        if status == 404:
            status, _ = self.request("POST", "secrets", {"key": key, "value": value})
        assert status in (200, 201), f"storing {key}: {status}"

    def remove_secret(self, key):
        status, _ = self.request("DELETE", "secrets/" + key)
        assert status in (204, 404), f"removing {key}: {status}"

    def issue_token(self, name, plugins=None, role="executor"):
        body = {"name": name, "role": role}
        if plugins is not None:
            body["plugins"] = plugins
        status, reply = self.request("POST", "tokens", body)
        assert status == 201, f"issuing a token: {status} {reply}"
        return reply

    def revoke_token(self, token_id):
        status, _ = self.request("DELETE", "tokens/" + token_id)
        assert status == 204, f"revoking a token: {status}"
