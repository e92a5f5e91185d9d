#!/usr/bin/env python
"""Compile every gettext catalogue (.po) of Linli into its .mo, with polib.

GNU gettext (msgfmt) is not needed: `python tools/compile_messages.py`
rewrites linli/**/locale/*/LC_MESSAGES/*.mo next to each .po. Fuzzy and
untranslated entries are left out of the .mo, as msgfmt does. The output is
deterministic, so tests can check that the committed .mo matches its .po.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

REPO = Path(__file__).resolve().parent.parent


def catalogues(root: Path = REPO / "linli") -> list[Path]:
    return sorted(p for p in root.rglob("*.po") if p.parent.name == "LC_MESSAGES")


def compile_po(po_path: Path, mo_path: Path | None = None) -> Path:
    mo_path = mo_path or po_path.with_suffix(".mo")
    polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
    return mo_path


def main(argv: list[str] | None = None) -> int:
    paths = [Path(a) for a in (argv if argv is not None else sys.argv[1:])] or catalogues()
    for po_path in paths:
        po = polib.pofile(str(po_path))
        mo_path = compile_po(po_path)
        print(f"{mo_path.relative_to(REPO) if mo_path.is_relative_to(REPO) else mo_path}: "
              f"{len(po.translated_entries())} translated, {len(po.untranslated_entries())} untranslated, "
              f"{len(po.fuzzy_entries())} fuzzy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
