"""plugin.run.signing as a pure unit: the key's form, PLUGIN_COSIGN_PARAMS, cosign's argv and environment,
the outputs that name the signature. (Signing itself is proven with the real cosign in
tests/integration/test_signing.py and the image tests.)"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from plugin.config.cosign import param_problems, setting_warnings
from plugin.config.load import load_settings
from plugin.core.errors import ConfigError
from plugin.core.log import MASK, REDACTOR
from plugin.run.outputs import BuildResult, artifact, output_values
from plugin.run.signing import (
    KEY_REF,
    cosign_env,
    insecure_flags,
    load_key,
    plan_steps,
    sign_step,
    signature_tag,
)
from plugin.target.destinations import Target

BODY = base64.b64encode(json.dumps({"kdf": {}, "cipher": {}, "ciphertext": "c2VjcmV0"}).encode()).decode()
KEY = (
    f"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{BODY}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
)
HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
INSECURE, HTTP = "--allow-insecure-registry", "--allow-http-registry"


def settings(**env: str):  # type: ignore[no-untyped-def]
    return load_settings({"PLUGIN_REPO": "team/app", "PLUGIN_BUILDER": "docker", **env}).settings


class TestKey:
    def test_pem_text(self) -> None:
        key = load_key(settings(PLUGIN_COSIGN_PRIVATE_KEY=KEY))
        assert key is not None and key.pem == KEY.strip() and key.source == "PLUGIN_COSIGN_PRIVATE_KEY"

    def test_a_path_to_the_key_file_and_its_lines_are_masked(self, tmp_path: Path) -> None:
        path = tmp_path / "cosign.key"
        path.write_text(KEY)
        key = load_key(settings(PLUGIN_COSIGN_PRIVATE_KEY=str(path)))
        assert key is not None and key.pem == KEY.strip() and key.source == str(path)
        assert REDACTOR.text(f"x {BODY} y") == f"x {MASK} y"

    def test_escaped_newlines_are_read_as_newlines(self) -> None:
        key = load_key(settings(PLUGIN_COSIGN_PRIVATE_KEY=KEY.replace("\n", "\\n")))
        assert key is not None and key.pem == KEY.strip()

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----", "not EC PRIVATE KEY"),
            (
                "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n"
                "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----",
                "kdf, cipher, ciphertext",
            ),
            ("/no/such/cosign.key", "a cosign key file (No such file or directory)"),
        ],
    )
    def test_what_is_not_a_cosign_key_is_exit_2_naming_the_variable(self, value: str, expected: str) -> None:
        with pytest.raises(ConfigError) as caught:
            load_key(settings(PLUGIN_COSIGN_PRIVATE_KEY=value))
        [problem] = caught.value.problems
        assert problem.variable == "PLUGIN_COSIGN_PRIVATE_KEY" and expected in problem.expected
        assert problem.value in (MASK, value if value.startswith("/") else MASK)  # never the key

    def test_unset_is_no_signing(self) -> None:
        assert load_key(settings()) is None


class TestParams:
    @pytest.mark.parametrize(
        "param",
        [
            "--oidc-issuer=https://oauth2.sigstore.dev/auth",
            "--identity-token=abc",
            "--fulcio-url=https://fulcio.example",
            "--issue-certificate",
            "--key=cosign.key",
            "--registry-password=hunter2",
        ],
    )
    def test_refused_by_name(self, param: str) -> None:
        [problem] = param_problems(settings(PLUGIN_COSIGN_PARAMS=f"-a x=1 {param}"))
        assert problem.variable == "PLUGIN_COSIGN_PARAMS"
        assert "hunter2" not in problem.render()

    def test_keyless_says_why(self) -> None:
        [problem] = param_problems(settings(PLUGIN_COSIGN_PARAMS="--oidc-provider=github"))
        assert "Fulcio" in problem.expected and "Rekor" in problem.expected

    def test_ordinary_flags_pass(self) -> None:
        assert (
            param_problems(settings(PLUGIN_COSIGN_PARAMS="--tlog-upload=false -a build=1 --recursive")) == []
        )


class TestCommand:
    def test_sign_argv_has_no_secret_and_ends_with_the_digest_reference(self) -> None:
        s = settings(PLUGIN_COSIGN_PRIVATE_KEY=KEY, PLUGIN_COSIGN_PARAMS="--tlog-upload=false  -a  k=v")
        step = sign_step(s, "cosign", HOST, f"{HOST}/team/app@sha256:ab", {})
        assert step.argv == (
            "cosign", "sign", "--yes", f"--key={KEY_REF}", "--tlog-upload=false", "-a", "k=v",
            f"{HOST}/team/app@sha256:ab",
        )  # fmt: skip

    def test_key_and_password_only_in_the_environment(self, tmp_path: Path) -> None:
        s = settings(PLUGIN_COSIGN_PRIVATE_KEY=KEY, PLUGIN_COSIGN_PASSWORD="pw-123")
        key = load_key(s)
        assert key is not None
        env = cosign_env(key, s, tmp_path / "docker-config", tmp_path)
        assert env["COSIGN_PRIVATE_KEY"] == KEY.strip() and env["COSIGN_PASSWORD"] == "pw-123"
        assert env["DOCKER_CONFIG"] == str(tmp_path / "docker-config")
        assert env["TUF_ROOT"] == str(tmp_path / "sigstore")

    def test_a_key_without_password_gets_an_empty_one(self, tmp_path: Path) -> None:
        s = settings(PLUGIN_COSIGN_PRIVATE_KEY=KEY)
        key = load_key(s)
        assert key is not None
        assert cosign_env(key, s, tmp_path, tmp_path)["COSIGN_PASSWORD"] == ""

    @pytest.mark.parametrize(
        ("env", "host", "flags"),
        [
            ({}, HOST, []),
            # every flag below: --allow-insecure-registry (INSECURE), --allow-http-registry (HTTP)
            ({"PLUGIN_INSECURE": "true"}, "127.0.0.1:5000", []),  # loopback: cosign falls back by itself
            ({"PLUGIN_INSECURE": "true"}, "registry.lan:5000", [INSECURE, HTTP]),
            ({"PLUGIN_INSECURE_REGISTRY": "registry.lan:5000"}, "registry.lan:5000", [INSECURE, HTTP]),
            ({"PLUGIN_SKIP_TLS_VERIFY": "true"}, "registry.lan", [INSECURE]),
            ({"PLUGIN_SKIP_TLS_VERIFY": "1", "PLUGIN_COSIGN_PARAMS": f"{INSECURE}=false"}, "r.lan", []),
        ],
    )  # fmt: skip
    def test_insecure_registries(self, env: dict[str, str], host: str, flags: list[str]) -> None:
        assert insecure_flags(settings(PLUGIN_BUILDER="kaniko", **env), host) == flags

    def test_the_plan_shows_one_step_per_registry_with_masked_secrets(self) -> None:
        s = settings(PLUGIN_COSIGN_PRIVATE_KEY=KEY, PLUGIN_COSIGN_PASSWORD="pw")
        target = Target(HOST, "team/app", ("1", "2"), ("987654321098.dkr.ecr.eu-west-1.amazonaws.com",))
        steps = plan_steps(s, target, {"PATH": "/nowhere"}, "<run dir>/docker-config")
        assert [st.argv[-1] for st in steps] == [
            f"{HOST}/team/app@<digest>",
            "987654321098.dkr.ecr.eu-west-1.amazonaws.com/team/app@<digest>",
        ]
        assert steps[0].to_json()["env"]["COSIGN_PRIVATE_KEY"] == MASK

    def test_signature_tag(self) -> None:
        assert signature_tag("sha256:abc") == "sha256-abc.sig"


class TestWarnings:
    def test_password_and_params_without_a_key(self) -> None:
        found = setting_warnings(settings(PLUGIN_COSIGN_PASSWORD="pw", PLUGIN_COSIGN_PARAMS="-a x=1"))
        assert [f["variable"] for _, f in found] == ["PLUGIN_COSIGN_PASSWORD", "PLUGIN_COSIGN_PARAMS"]

    def test_a_key_without_a_push(self) -> None:
        [(event, fields)] = setting_warnings(settings(PLUGIN_COSIGN_PRIVATE_KEY=KEY, PLUGIN_NO_PUSH="true"))
        assert event == "sign.setting_unused" and fields["variable"] == "PLUGIN_COSIGN_PRIVATE_KEY"


class TestOutputs:
    def test_drone_output_and_artifact_name_the_signatures(self) -> None:
        signatures = [
            {
                "image": f"{HOST}/team/app@sha256:ab",
                "signature": f"{HOST}/team/app:sha256-ab.sig",
                "digest": "sha256:cd",
            },
            {"image": "r2/team/app@sha256:ab", "signature": "r2/team/app:sha256-ab.sig"},
        ]  # fmt: skip
        result = BuildResult(HOST, "team/app", ["1"], digest="sha256:ab", signatures=signatures)
        values = output_values(result)
        assert values["signature"] == f"{HOST}/team/app:sha256-ab.sig"
        assert values["signatures"] == f"{HOST}/team/app:sha256-ab.sig,r2/team/app:sha256-ab.sig"
        assert values["signature_digest"] == "sha256:cd"
        assert artifact(result)["data"]["signatures"] == signatures

    def test_unsigned_runs_have_no_signature_keys(self) -> None:
        values = output_values(BuildResult(HOST, "team/app", ["1"], digest="sha256:ab"))
        assert not {"signature", "signatures", "signature_digest"} & set(values)
