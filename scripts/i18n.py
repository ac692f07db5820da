"""Family-facing translations: `python scripts/i18n.py update` extracts the strings into
src/steward/i18n/locale/steward.pot and merges them into every language's .po (new strings
untranslated); `python scripts/i18n.py compile` writes the .mo files the app loads (committed, so a
fresh checkout has them; the tests fail when they are stale)."""

from __future__ import annotations

import sys

from steward.i18n import catalog


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "all"
    if command not in ("update", "compile", "all"):
        print(__doc__)
        return 2
    if command in ("update", "all"):
        catalog.update()
    if command in ("compile", "all"):
        catalog.compile_all()
    for lang in catalog.translated_languages():
        messages = [m for m in catalog.read(lang) if m.id]
        done = sum(1 for m in messages if m.string and (not isinstance(m.string, tuple) or all(m.string)))
        print(f"{lang}: {done}/{len(messages)} translated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
