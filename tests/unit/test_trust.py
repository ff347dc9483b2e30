"""HARNESS_CA_PATH: the CA joins the bundle already in use, for this process and every child."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin.errors import ConfigError
from plugin.trust import trust_ca

CA = "-----BEGIN CERTIFICATE-----\nQ0EgYnl0ZXM=\n-----END CERTIFICATE-----\n"


class TestTrustCA:
    def test_bundle_holds_the_users_bundle_then_the_ca(self, tmp_path: Path) -> None:
        """The user's SSL_CERT_FILE stays trusted; both variables point at the new bundle."""
        own = tmp_path / "own.pem"
        own.write_text("OWN-BUNDLE\n")
        ca = tmp_path / "ca.pem"
        ca.write_text(CA)
        env = {"SSL_CERT_FILE": str(own)}
        bundle = trust_ca(str(ca), tmp_path, env)
        assert bundle.read_text() == "OWN-BUNDLE\n" + CA
        assert env == {"SSL_CERT_FILE": str(bundle), "AWS_CA_BUNDLE": str(bundle)}

    def test_system_bundle_is_the_base_otherwise(self, tmp_path: Path) -> None:
        ca = tmp_path / "ca.pem"
        ca.write_text(CA)
        bundle = trust_ca(str(ca), tmp_path, {})
        text = bundle.read_text()
        assert text.endswith(CA)
        assert text.count("BEGIN CERTIFICATE") > 1

    @pytest.mark.parametrize("content", [None, "not pem"])
    def test_missing_or_non_pem_file_is_a_config_error(self, tmp_path: Path, content: str | None) -> None:
        ca = tmp_path / "ca.pem"
        if content is not None:
            ca.write_text(content)
        with pytest.raises(ConfigError) as caught:
            trust_ca(str(ca), tmp_path, {})
        assert caught.value.problems[0].variable == "HARNESS_CA_PATH"
