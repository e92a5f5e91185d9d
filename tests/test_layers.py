"""The layers of docs/architecture.md, enforced: core ← community ← {cases, books, transparency} ←
{insight, notify, disclosure} ← {voting, points} ← {deliberation, funds, evaluation, volunteers} ←
{canteen, services} ← demo ← config.

import-linter reads every import statement of the package, inside functions too, so a
lazy import that dodges a cycle fails here like a top-level one. The contract lives in
pyproject.toml ([tool.importlinter]) and has no exemptions.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _contract() -> dict:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = config["contracts"]
    return contract


def test_the_layer_contract_names_every_app_and_has_no_exemptions():
    contract = _contract()
    assert contract["type"] == "layers"
    assert "ignore_imports" not in contract and "unmatched_ignore_imports_alerting" not in contract
    named = {name.strip() for layer in contract["layers"] for name in layer.split("|")}
    apps = {f"linli.{p.name}" for p in (REPO / "linli").iterdir() if (p / "apps.py").exists()}
    assert apps - {"linli.config"} <= named, f"apps outside the layer contract: {sorted(apps - named)}"
    assert named == apps | {"linli.config"}


def test_nothing_imports_upward():
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                               "sys.exit(lint_imports(no_cache=True, no_logo=True))"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
