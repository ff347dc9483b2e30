"""`make demo`: the plugin's main job on local stand-ins for AWS (`make demo-fail`: a failing run).

Starts the AWS emulator (moto: ECR + STS over HTTP) and a real OCI registry that accepts only the
ECR token the emulator issues, then runs the plugin as a CI runner would (environment variables
only) with the docker builder, which starts its own dockerd, builds examples/app, and pushes.
Prints the pushed image, its digest and where the outputs are; then stops what it started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugin.registry.api import manifest_digest  # noqa: E402
from tests.support.stack import ACCOUNT, RegistryProcess, running_moto, running_registry  # noqa: E402


def plugin_env(moto_url: str, registry_host: str, work: Path, out: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PLUGIN_", "DRONE_", "AWS_", "DOCKER_"))}
    # The Debian docker CLI (20.10) drives BuildKit without the buildx plugin; prefer it to any other.
    keep["PATH"] = "/usr/sbin:/usr/bin:" + keep.get("PATH", "")
    return {
        **keep,
        "PLUGIN_BUILDER": "docker",
        "PLUGIN_REGISTRY": registry_host,
        "PLUGIN_ACCOUNT": ACCOUNT,
        "PLUGIN_REGION": "us-east-1",
        "PLUGIN_REPO": "demo/app",
        "PLUGIN_TAGS": "1.0.0,latest",
        "PLUGIN_CREATE_REPOSITORY": "true",
        "PLUGIN_SCAN_ON_PUSH": "true",
        "PLUGIN_CONTEXT": str(ROOT / "examples/app"),
        "PLUGIN_DOCKERFILE": str(ROOT / "examples/app/Dockerfile"),
        "PLUGIN_BUILD_ARGS": "GREETING=hello-from-make-demo",
        "PLUGIN_SECRETS_FROM_ENV": "token=DEMO_BUILD_TOKEN",
        "DEMO_BUILD_TOKEN": "demo-secret-value-never-printed",
        "PLUGIN_NETWORK": "host",
        "PLUGIN_DAEMON_ARGS": "--iptables=false --ip-masq=false --bridge=none",
        "PLUGIN_STORAGE_PATH": str(work / "docker"),
        "PLUGIN_ARTIFACT_FILE": str(out / "artifact.json"),
        "DRONE_OUTPUT": str(out / "drone-output.env"),
        "DRONE_CARD_PATH": str(out / "card.json"),
        "DRONE_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
        "AWS_ENDPOINT_URL_ECR": moto_url,
        "AWS_ENDPOINT_URL_STS": moto_url,
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def report(out: Path, registry: RegistryProcess) -> None:
    """What was pushed, checked against what the registry itself serves, and where the outputs are."""
    artifact = json.loads((out / "artifact.json").read_text())
    print("\ndemo: pushed")
    for image in artifact["data"]["images"]:
        print(f"  {image['image']}  {image['digest']}")
    served = manifest_digest(registry.host, "demo/app", "latest", (registry.username, registry.password))
    same = all(image["digest"] == served for image in artifact["data"]["images"])
    print(f"demo: the registry serves {served} for demo/app:latest ({'same' if same else 'DIFFERENT'})")
    print(f"demo: outputs in {out}: drone-output.env, artifact.json, card.json")
    print((out / "drone-output.env").read_text().rstrip())


def main(argv: list[str]) -> int:
    """The demo; with ``--fail``, the same run with a build stage that does not exist, which must fail."""
    failing = "--fail" in argv
    out = ROOT / ".work" / "demo"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="demo-", dir="/tmp") as tmp:
        work = Path(tmp)
        with running_moto() as moto_url, running_registry(work / "registry") as registry:
            print(f"demo: AWS emulator at {moto_url}; registry at {registry.host} (takes only the ECR token)")
            env = plugin_env(moto_url, registry.host, work, out)
            if failing:
                env["PLUGIN_TARGET"] = "no-such-stage"
            plugin = subprocess.run([sys.executable, "-m", "plugin"], env=env, cwd=ROOT, check=False)
            if failing:
                print(f"\ndemo: the plugin failed as it should, with exit status {plugin.returncode}")
                return 0 if plugin.returncode not in (0, 70) else 1
            if plugin.returncode != 0:
                print(f"demo: the plugin failed with exit status {plugin.returncode}", file=sys.stderr)
                return plugin.returncode
            report(out, registry)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
