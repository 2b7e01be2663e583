"""docs/SDK.md's Python example, run as printed against the service."""

import os
import re
import subprocess
import sys

from service import ROOT


def test_the_sdk_page_python_example_runs_as_printed(service, executor_token):
    service.put_secret("FIFTYONE_CVAT_URL", "https://cvat.example/v1")
    markdown = (ROOT / "docs" / "SDK.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- python-snippet\b[^>]*-->\s*\n```python\n(.*?)\n```", markdown, re.S).group(1)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "clients" / "python"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "SECRETS_URL": service.url + "/api/v1",
        "SECRETS_TOKEN": executor_token + "\n",
        "SECRETS_CA_FILE": service.ca_file,
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "CVAT at https://cvat.example/v1, from the store\n"
