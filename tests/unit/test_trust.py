"""HARNESS_CA_PATH: the CA joins the bundle already in use, for this process and every child."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin.aws.trust import trust_ca
from plugin.core.errors import ConfigError
from tests.support.certs import make_ca


@pytest.fixture(scope="module")
def ca_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real CA certificate (OpenSSL must load what HARNESS_CA_PATH names)."""
    return make_ca(tmp_path_factory.mktemp("ca")).ca_pem.read_text()


class TestTrustCA:
    def test_bundle_holds_the_users_bundle_then_the_ca(self, tmp_path: Path, ca_text: str) -> None:
        """The user's SSL_CERT_FILE stays trusted; both variables point at the new bundle."""
        own = tmp_path / "own.pem"
        own.write_text("OWN-BUNDLE\n")
        ca = tmp_path / "ca.pem"
        ca.write_text(ca_text)
        env = {"SSL_CERT_FILE": str(own)}
        bundle = trust_ca(str(ca), tmp_path, env)
        assert bundle.read_text() == "OWN-BUNDLE\n" + ca_text
        assert env == {"SSL_CERT_FILE": str(bundle), "AWS_CA_BUNDLE": str(bundle)}

    def test_system_bundle_is_the_base_otherwise(self, tmp_path: Path, ca_text: str) -> None:
        ca = tmp_path / "ca.pem"
        ca.write_text(ca_text)
        bundle = trust_ca(str(ca), tmp_path, {})
        text = bundle.read_text()
        assert text.endswith(ca_text)
        assert text.count("BEGIN CERTIFICATE") > 1

    @pytest.mark.parametrize(
        "content",
        [None, "not pem", "-----BEGIN CERTIFICATE-----\nQ0EgYnl0ZXM=\n-----END CERTIFICATE-----\n", "\udcff"],
        ids=["missing", "not-pem", "pem-markers-around-garbage", "not-utf-8"],
    )
    def test_missing_or_non_pem_file_is_a_config_error(self, tmp_path: Path, content: str | None) -> None:
        ca = tmp_path / "ca.pem"
        if content is not None:
            ca.write_bytes(content.encode(errors="surrogateescape"))
        with pytest.raises(ConfigError) as caught:
            trust_ca(str(ca), tmp_path, {})
        assert caught.value.problems[0].variable == "HARNESS_CA_PATH"

    def test_openssl_says_why_a_pem_does_not_load(self, tmp_path: Path) -> None:
        """OpenSSL's own reason, not only the exception's type (which said nothing: "SSLError")."""
        ca = tmp_path / "ca.pem"
        ca.write_text("-----BEGIN CERTIFICATE-----\nQ0EgYnl0ZXM=\n-----END CERTIFICATE-----\n")
        with pytest.raises(ConfigError) as caught:
            trust_ca(str(ca), tmp_path, {})
        expected = caught.value.problems[0].expected
        assert expected.startswith("PEM certificates OpenSSL can load (") and "SSLError" not in expected
        assert "_ssl.c" not in expected and len(expected) > len("PEM certificates OpenSSL can load ()") + 5

    def test_a_pem_that_is_not_ascii_says_so(self, tmp_path: Path) -> None:
        ca = tmp_path / "ca.pem"
        ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n\xff\xfe\n-----END CERTIFICATE-----\n")
        with pytest.raises(ConfigError) as caught:
            trust_ca(str(ca), tmp_path, {})
        assert caught.value.problems[0].expected == "PEM certificates OpenSSL can load (not ASCII text)"

    @pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "AWS_CA_BUNDLE"])
    def test_an_unreadable_bundle_is_named_by_the_variable_that_chose_it(
        self, tmp_path: Path, ca_text: str, variable: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        own = tmp_path / "own.pem"
        own.write_text("OWN\n")
        ca = tmp_path / "ca.pem"
        ca.write_text(ca_text)
        real_read = Path.read_bytes

        def read_bytes(self: Path) -> bytes:  # root reads any file: the read fails as it would for a user
            if self == own:
                raise PermissionError(13, "Permission denied")
            return real_read(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
        with pytest.raises(ConfigError) as caught:
            trust_ca(str(ca), tmp_path, {variable: str(own)})
        problem = caught.value.problems[0]
        assert (problem.variable, problem.value) == (variable, str(own))
        assert problem.expected == "a readable CA bundle (Permission denied)"
