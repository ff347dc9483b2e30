"""Keep only what the plugin's AWS clients load from botocore's data, and make it quick to load.

    python scripts/slim-botocore.py SITE_PACKAGES [SERVICE ...]

botocore ships the models of ~450 services and one endpoints.json (1.2 MB) for all of them, which it
parses whole for the first client of a run (~30 ms and ~8 MB of dicts). The plugin talks to ECR, ECR
Public and STS, and the credential chain may use SSO, SSO-OIDC and sign-in. This script (run by both
Dockerfiles and by `make bench` on its runtime-only venv):

- removes every other service's models;
- keeps, in endpoints.json, only the kept services (by their endpoint prefix, in every partition);
- stores the kept services' ``*.json.gz`` models uncompressed (botocore reads ``.json`` first);
- then creates a client for every kept service in a few regions, so a missing file fails the build.

Idempotent. With no SERVICE arguments the plugin's default set is kept.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

DEFAULT_SERVICES = ("ecr", "ecr-public", "sts", "sso", "sso-oidc", "signin")
CHECK_REGIONS = ("us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1")


def _latest_model(service_dir: Path) -> Path:
    versions = sorted(p for p in service_dir.iterdir() if p.is_dir())
    return versions[-1]


def _load(path: Path) -> Any:
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=OrderedDict)
    with gzip.open(path.with_name(path.name + ".gz"), "rt", encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=OrderedDict)


def slim(data: Path, services: tuple[str, ...]) -> list[str]:
    """Prune ``data`` (botocore/data) to ``services``; returns their endpoint prefixes."""
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in services:
            shutil.rmtree(entry)
    prefixes: list[str] = []
    for name in services:
        model_dir = _latest_model(data / name)
        for packed in model_dir.glob("*.json.gz"):
            target = packed.with_suffix("")  # x.json.gz -> x.json
            with gzip.open(packed, "rb") as src:
                target.write_bytes(src.read())
            packed.unlink()
        metadata = _load(model_dir / "service-2.json")["metadata"]
        prefixes.append(str(metadata.get("endpointPrefix") or name))
    endpoints_file = data / "endpoints.json"
    endpoints = _load(endpoints_file)
    for partition in endpoints["partitions"]:
        partition["services"] = OrderedDict(
            (key, value) for key, value in partition["services"].items() if key in prefixes
        )
    endpoints_file.write_text(json.dumps(endpoints, indent=1), encoding="utf-8")
    return prefixes


def check(services: tuple[str, ...]) -> None:
    """A client for every kept service in several partitions: a file the clients need is still there."""
    import botocore.session  # noqa: PLC0415 - the slimmed copy, imported after slimming

    session = botocore.session.get_session()
    session.set_credentials("AKIACHECKCHECKCHECK0", "check")
    for service in services:
        for region in CHECK_REGIONS:
            client = session.create_client(service, region_name=region)
            if not client.meta.endpoint_url:
                raise SystemExit(f"slim-botocore: no endpoint for {service} in {region}")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    data = Path(argv[0]) / "botocore" / "data"
    if not data.is_dir():
        print(f"slim-botocore: no botocore data in {argv[0]}", file=sys.stderr)
        return 2
    services = tuple(argv[1:]) or DEFAULT_SERVICES
    prefixes = slim(data, services)
    sys.path.insert(0, argv[0])
    check(services)
    size = (data / "endpoints.json").stat().st_size
    print(f"slim-botocore: kept {', '.join(services)} (endpoint prefixes {', '.join(prefixes)}); "
          f"endpoints.json {size} bytes")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
