"""Version parsing for `type=semver` (node-semver's strict rules) and `type=pep440` (PEP 440).

metadata-action accepts a git tag for `type=semver` when node-semver's ``valid()`` does: an optional
leading ``v``, X.Y.Z without leading zeros, then ``-prerelease`` and ``+build``; ``{{version}}`` is
X.Y.Z[-prerelease] (no build). For `type=pep440` the version is normalized as PEP 440 says
(``1.2.3beta2`` is ``1.2.3b2``, ``1.0dev4`` is ``1.0.dev4``). Both mark pre-releases (and PEP 440
post/dev releases) as unstable: metadata-action then tags only the version, and no ``latest``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MAX_SEMVER = 256  # node-semver's MAX_LENGTH
_MAX_SAFE_INTEGER = 2**53 - 1
_NUM = r"0|[1-9][0-9]*"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][A-Za-z0-9-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"v?(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?(?:\+(?P<build>{_BUILD_ID}(?:\.{_BUILD_ID})*))?"
)
# PEP 440, Appendix B (the canonical version pattern), with the leading "v" it allows.
_PEP440 = re.compile(
    r"""
    v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?P<pre>[-_.]?(?P<pre_l>alpha|beta|preview|pre|a|b|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
    (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_PRE_LETTER = {
    "alpha": "a",
    "a": "a",
    "beta": "b",
    "b": "b",
    "c": "rc",
    "rc": "rc",
    "pre": "rc",
    "preview": "rc",
}


@dataclass(frozen=True)
class Version:
    """A parsed version: what ``{{raw}}``, ``{{version}}``, ``{{major}}``... render to."""

    raw: str
    version: str
    major: int
    minor: int
    patch: int
    unstable: bool

    def field(self, name: str) -> str:
        return str(getattr(self, name))


def parse_semver(text: str) -> Version | None:
    """node-semver ``valid()`` then ``parse()``: None when the text is not a semantic version."""
    candidate = text.strip()
    match = _SEMVER.fullmatch(candidate)
    if len(candidate) > _MAX_SEMVER or not match:
        return None
    numbers = [int(match[k]) for k in ("major", "minor", "patch")]
    if max(numbers) > _MAX_SAFE_INTEGER:
        return None
    major, minor, patch = numbers
    pre = match["pre"]
    version = f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    return Version(text, version, major, minor, patch, unstable=bool(pre))


def parse_pep440(text: str) -> Version | None:
    """A PEP 440 version, normalized; None when the text does not conform."""
    match = _PEP440.fullmatch(text.strip())
    if not match:
        return None
    release = [int(p) for p in match["release"].split(".")]
    out = f"{int(match['epoch'])}!" if match["epoch"] and int(match["epoch"]) else ""
    out += ".".join(str(n) for n in release)
    if match["pre"]:
        out += _PRE_LETTER[match["pre_l"].lower()] + str(int(match["pre_n"] or 0))
    post = match["post_n1"] or match["post_n2"] or ("0" if match["post_l"] else None)
    if post is not None:
        out += f".post{int(post)}"
    if match["dev"]:
        out += f".dev{int(match['dev_n'] or 0)}"
    if match["local"]:
        out += "+" + ".".join(
            str(int(p)) if p.isdigit() else p for p in re.split(r"[-_.]", match["local"].lower())
        )
    padded = [*release, 0, 0]
    unstable = bool(match["pre"] or post is not None or match["dev"])
    return Version(text, out, padded[0], padded[1], padded[2], unstable)
