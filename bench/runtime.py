"""The interpreter the benchmarks run the plugin with: a venv holding only its runtime dependencies.

The development venv also holds the test tools (pytest, moto, inline-snapshot, which brings rich:
structlog imports rich when it is installed) and loads the editable install's import finder at every
start. Neither is in the images. So `make bench` runs the plugin as the images install it: a venv at
``.work/bench-venv`` with the ``[project] dependencies`` pinned by requirements.lock, and botocore's
data slimmed by scripts/slim-botocore.py as both Dockerfiles do. ``python -m plugin`` imports the
plugin itself from the checkout it runs in (the working directory comes first on sys.path), so the
same venv measures any checkout. It is rebuilt when requirements.lock, the dependencies or the slim
script change.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".work" / "bench-venv"


def _dependencies() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def _stamp(deps: list[str]) -> str:
    digest = hashlib.sha256("\n".join(deps).encode())
    for name in ("requirements.lock", "scripts/slim-botocore.py"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def runtime_python() -> str:
    """The venv's interpreter, created (or refreshed) first when needed (a minute, with pip's cache)."""
    deps = _dependencies()
    stamp = _stamp(deps)
    python = VENV / "bin" / "python"
    stamp_file = VENV / "bench-stamp"
    if python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return str(python)
    print(f"bench: creating {VENV.relative_to(ROOT)} (runtime dependencies only)", file=sys.stderr)
    if VENV.is_symlink():  # a venv shared from another checkout: make this checkout's own
        VENV.unlink()
    shutil.rmtree(VENV, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    lock = str(ROOT / "requirements.lock")
    done = subprocess.run([*pip, "-c", lock, *deps], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: pip install failed:\n{done.stdout}{done.stderr}")
    # setuptools' distutils-precedence.pth runs at every start; the images have no setuptools.
    subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "setuptools"], check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run([str(python), str(ROOT / "scripts" / "slim-botocore.py"), site], check=True)
    subprocess.run([str(python), "-m", "compileall", "-q", site], check=True)
    stamp_file.write_text(stamp)
    return str(python)


if __name__ == "__main__":
    print(runtime_python())
