"""docs/troubleshooting.md against the catalog: entries, what is missing or stale, skeletons to paste.

python -m tests.support.catalog_doc     # (make catalog-missing) exit 1 when anything is missing
"""

from __future__ import annotations

import re
import sys

from tests.support.catalog import DYNAMIC, ROOT, SECTION_TITLES, Catalog, Message, build_catalog

DOC = ROOT / "docs" / "troubleshooting.md"

_ENTRY = re.compile(r"^#{3,4} `(.+)`\s*$")


def documented(text: str | None = None) -> dict[str, str]:
    """The entries of docs/troubleshooting.md: key -> the text under its heading."""
    text = DOC.read_text(encoding="utf-8") if text is None else text
    entries: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        match = _ENTRY.match(line)
        if match:
            current = match[1]
            entries[current] = ""
        elif line.startswith("#"):
            current = None
        elif current is not None:
            entries[current] += line + "\n"
    return entries


def missing_entries(catalog: Catalog | None = None) -> list[Message]:
    catalog = catalog or build_catalog()
    have = documented()
    return [m for m in catalog.messages if m.key not in have]


def stale_entries(catalog: Catalog | None = None) -> list[str]:
    catalog = catalog or build_catalog()
    return sorted(set(documented()) - catalog.keys())


def skeleton(messages: list[Message]) -> str:
    """Markdown entries to paste into docs/troubleshooting.md, grouped by section."""
    out: list[str] = []
    for title in dict.fromkeys(SECTION_TITLES[m.kind] for m in messages):
        out.append(f"<!-- paste under: ## {title} -->")
        for message in (m for m in messages if SECTION_TITLES[m.kind] == title):
            out += [
                f"### `{message.key}`",
                f"<!-- {message.where} -->",
                "**Means:** TODO",
                "**Fix:** TODO",
                "",
            ]
    return "\n".join(out)


def main() -> int:
    """Print what docs/troubleshooting.md and plugin.core.events lack; exit 1 when anything is missing."""
    from plugin.core.events import SENTENCES  # noqa: PLC0415

    catalog = build_catalog()
    missing = missing_entries(catalog)
    stale = stale_entries(catalog)
    events = sorted(set(catalog.events) - set(SENTENCES))
    unused = sorted(set(SENTENCES) - set(catalog.events))
    unlisted = [d for d in catalog.dynamic if (d[0], d[1]) not in DYNAMIC]
    if missing:
        print(f"# {len(missing)} message(s) missing from {DOC.relative_to(ROOT)}:\n")
        print(skeleton(missing))
    if stale:
        print(f"# {len(stale)} entr(ies) in {DOC.relative_to(ROOT)} match no message any more:")
        print("\n".join(f"#   {key}" for key in stale) + "\n")
    if events:
        print("# log events without a sentence; add to plugin/core/events.py SENTENCES:")
        print("\n".join(f'    "{e}": "TODO",  # {catalog.events[e]}' for e in events) + "\n")
    if unused:
        print("# sentences for events the code no longer emits; remove from plugin/core/events.py:")
        print("\n".join(f"#   {e}" for e in unused) + "\n")
    if unlisted:
        print("# messages built out of sight; give them a literal text or list them in DYNAMIC:")
        print("\n".join(f"#   {f}:{line} in {fn}()" for f, fn, line in unlisted))
    return 1 if missing or stale or events or unused or unlisted else 0


if __name__ == "__main__":
    sys.exit(main())
