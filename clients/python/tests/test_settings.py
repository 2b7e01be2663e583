"""SECRETS_URL, SECRETS_TOKEN and SECRETS_CA_FILE read by the rules the TypeScript clients use."""

import re

import pytest

from secrets_ledger import SecretsClient, SecretsServiceUnreachableError, ServiceSettingError
from secrets_ledger.service_address import service_token, service_url

TOKEN = "slt_" + "a" * 43


@pytest.mark.parametrize(
    "raw, url",
    [
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000/"),
        ("  http://127.0.0.1:3000/api/v1\n", "http://127.0.0.1:3000/"),
        ("https://secrets.internal/api/v1/", "https://secrets.internal/"),
        ("https://proxy.internal/ledger/api/v1?x=1#y", "https://proxy.internal/ledger/"),
        ("HTTP://host:8080/prefix", "http://host:8080/prefix/"),
    ],
)
def test_service_url_as_the_typescript_clients_read_it(raw, url):
    assert service_url(raw) == url


@pytest.mark.parametrize(
    "raw, problem",
    [
        ("10.1.2.3:3000", "SECRETS_URL has no http:// or https:// in front"),
        ("ftp://host", "SECRETS_URL must start with http:// or https://, not ftp://"),
        ("http://host:port", "SECRETS_URL is not a valid URL"),
    ],
)
def test_a_bad_service_url_names_the_setting_not_the_value(raw, problem):
    with pytest.raises(ServiceSettingError, match=problem) as caught:
        service_url(raw)
    assert raw not in str(caught.value)


def test_a_token_as_pasted():
    assert service_token(f"  Bearer {TOKEN}\n") == TOKEN
    assert service_token(None) == ""
    with pytest.raises(ServiceSettingError, match="SECRETS_TOKEN holds characters no token has") as caught:
        service_token("slt_abc def")
    assert "abc" not in str(caught.value)


def test_from_env():
    client = SecretsClient.from_env({"SECRETS_URL": "http://127.0.0.1:9/api/v1", "SECRETS_TOKEN": f"Bearer {TOKEN}\n"})
    assert repr(client) == "<SecretsClient http://127.0.0.1:9>"
    assert TOKEN not in repr(client) and TOKEN not in str(client)
    assert repr(SecretsClient.from_env({"SECRETS_TOKEN": TOKEN})) == "<SecretsClient http://127.0.0.1:3000>"
    with pytest.raises(ServiceSettingError, match="an executor token is required: set SECRETS_TOKEN"):
        SecretsClient.from_env({"SECRETS_URL": "http://127.0.0.1:9"})
    with pytest.raises(ServiceSettingError, match="SECRETS_CA_FILE: cannot read /nonexistent/ca.pem"):
        SecretsClient.from_env({"SECRETS_TOKEN": TOKEN, "SECRETS_CA_FILE": "/nonexistent/ca.pem"})


def test_tls_problems_are_said_plainly(service, executor_token):
    manifest = {"name": "@voxel51/annotation", "secrets": ["FIFTYONE_CVAT_URL"]}
    where = service.url.split("://", 1)[1]
    # The system's CAs do not know the service's: say which setting gives one.
    with SecretsClient(service.url, executor_token) as client:
        with pytest.raises(SecretsServiceUnreachableError, match=r"its TLS certificate is not trusted .*SECRETS_CA_FILE"):
            client.hydrate(manifest)
    # http:// to an HTTPS port: say which scheme the port speaks.
    with SecretsClient("http://" + where, executor_token) as client:
        with pytest.raises(SecretsServiceUnreachableError, match=f"{re.escape(where)} answers HTTPS, not plain HTTP: use https://{re.escape(where)}"):
            client.hydrate(manifest)


def test_a_ca_file_that_is_no_certificate_is_refused_at_once(tmp_path):
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(ServiceSettingError, match=r"the CA file .*ca\.pem cannot be used \(SSLError"):
        SecretsClient("https://127.0.0.1:9", TOKEN, str(tmp_path / "ca.pem"))
