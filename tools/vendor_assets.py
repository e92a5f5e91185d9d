#!/usr/bin/env python
"""Refresh, or check, the vendored browser libraries in linli/static/vendor/ from npm.

Linli serves Leaflet, ECharts and, for the entry page's in-browser check, noble-ed25519 and
noble-hashes itself (no CDN: many installations have no way out), so their files are
committed. PINNED below is the one place their versions are chosen: for each package the
version, the sha256 of the tarball `npm pack` fetches, and which files of the package are
copied where (`npm` names a scoped package whose folder here has a plain name).

    .venv/bin/python tools/vendor_assets.py            # refresh every package (needs npm and the registry)
    .venv/bin/python tools/vendor_assets.py leaflet    # refresh one
    .venv/bin/python tools/vendor_assets.py --check    # offline: do the committed files match?

A refresh runs `npm pack <package>@<version>` into a temporary folder (npm checks the
registry's integrity hash; this script then checks the pinned sha256), reads the listed
files out of the tarball, and writes them to linli/static/vendor/<package>/, removing any
file there the table no longer lists. It then writes linli/static/vendor/MANIFEST.json
(version, tarball hash, every file's sha256) and the part of each vendor README.md above
the MARKER line: title, provenance and file table. The notes below the marker are kept.
Nothing is written unless every package verified. The output is deterministic: a refresh
at the pinned versions leaves the committed tree unchanged, byte for byte.

`--check` reads no network: the manifest must name the pinned versions and tarball hashes
and the table's files, every file on disk must hash to the manifest, no unlisted file may
sit in a vendor folder, and each README's upper part must be what a refresh writes.
tests/test_static_assets.py runs it.

To upgrade a package: change its version in PINNED and run a refresh. It stops before
writing anything and prints the sha256 of the tarball it got; after checking the release
(its changelog, `npm view <package>@<version> dist.integrity`), pin that sha256 and run
again. Then run the browser tests (tests/browser/) and commit the vendor folder with this file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENDOR = REPO / "linli" / "static" / "vendor"
MANIFEST = "MANIFEST.json"  # in the vendor folder
README = "README.md"
MARKER = "<!-- Everything above this line is written by tools/vendor_assets.py; the notes below are kept. -->"


@dataclass(frozen=True)
class Package:
    name: str  # the folder under linli/static/vendor/, and the npm package unless `npm` names it
    title: str  # what the README calls it
    version: str
    tarball_sha256: str
    files: tuple[tuple[str, str], ...]  # (path inside the package, path inside the vendor folder)
    npm: str = ""  # the npm package where it differs from the folder (a scoped one: "@scope/name")

    @property
    def spec(self) -> str:
        """What npm is asked for: package@version."""
        return f"{self.npm or self.name}@{self.version}"


PINNED = (
    Package(
        name="leaflet", title="Leaflet", version="1.9.4",
        tarball_sha256="84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77",
        files=(
            ("dist/leaflet.js", "leaflet.js"),
            ("dist/leaflet.css", "leaflet.css"),
            ("LICENSE", "LICENSE"),
            ("dist/images/layers-2x.png", "images/layers-2x.png"),
            ("dist/images/layers.png", "images/layers.png"),
            ("dist/images/marker-icon-2x.png", "images/marker-icon-2x.png"),
            ("dist/images/marker-icon.png", "images/marker-icon.png"),
            ("dist/images/marker-shadow.png", "images/marker-shadow.png"),
        ),
    ),
    Package(
        name="echarts", title="Apache ECharts", version="6.1.0",
        tarball_sha256="681aff88cc1038c3fa941a3a53d1b177a52250b05335efc607d6105ae13be481",
        files=(
            ("dist/echarts.min.js", "echarts.min.js"),
            ("LICENSE", "LICENSE"),
            ("NOTICE", "NOTICE"),
            ("licenses/LICENSE-d3", "LICENSE-d3"),
        ),
    ),
    # The entry page's in-browser check (linli/static/disclosure/verify.js): Ed25519 where the
    # browser's WebCrypto lacks it, SHA-256/SHA-512 where there is no WebCrypto at all (plain http).
    # Both are ES modules without bare imports, loaded by verify.js with import() only when needed.
    Package(
        name="noble-ed25519", npm="@noble/ed25519", title="noble-ed25519", version="3.2.0",
        tarball_sha256="aaae5d6bc1aa92b798dc2017f2ff1f834f6d8a1e339fdc3e08915ec336006bd8",
        files=(
            ("index.js", "index.js"),
            ("LICENSE", "LICENSE"),
        ),
    ),
    Package(
        name="noble-hashes", npm="@noble/hashes", title="noble-hashes", version="2.4.0",
        tarball_sha256="e1946149b780017b2564fcc092cb01c04e1d7f20627d0296c17da8868f4436dc",
        files=(
            ("sha2.js", "sha2.js"),
            ("_md.js", "_md.js"),
            ("_u64.js", "_u64.js"),
            ("utils.js", "utils.js"),
            ("LICENSE", "LICENSE"),
        ),
    ),
)


class VendorError(Exception):
    """A refresh that must stop before writing anything, or a check that found a difference."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(package: Package, workdir: Path) -> Path:
    """The tarball of package@version, fetched by npm into workdir."""
    spec = package.spec
    try:
        run = subprocess.run(
            ["npm", "pack", spec, "--json", "--ignore-scripts", "--pack-destination", str(workdir)],
            capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise VendorError("npm is not installed; a refresh needs it (--check does not)") from exc
    if run.returncode != 0:
        raise VendorError(f"npm pack {spec} failed:\n{run.stderr.strip()}")
    # npm prints the tarball's name in its JSON answer; older npm versions print log lines first.
    answer = json.loads(run.stdout[run.stdout.index("["):])
    return workdir / answer[0]["filename"]


def read_files(package: Package, tarball: Path) -> dict[str, bytes]:
    """The listed files of a verified tarball, by their path in the vendor folder."""
    got = sha256(tarball.read_bytes())
    if got != package.tarball_sha256:
        raise VendorError(
            f"{package.spec}: the tarball's sha256 is {got}, the pinned one "
            f"{package.tarball_sha256}; nothing written. For a new version, check the release and pin {got}.")
    contents = {}
    # Only the listed members are read (never extracted), so a hostile path in the tarball goes nowhere.
    with tarfile.open(tarball, "r:gz") as archive:
        for source, target in package.files:
            try:
                member = archive.getmember(f"package/{source}")
            except KeyError:
                raise VendorError(f"{package.spec} has no {source}") from None
            stream = archive.extractfile(member)
            if stream is None:
                raise VendorError(f"{package.spec}: {source} is not a plain file")
            contents[target] = stream.read()
    return contents


def manifest_entry(package: Package, contents: dict[str, bytes]) -> dict:
    return {
        "version": package.version,
        "tarball_sha256": package.tarball_sha256,
        "files": {target: sha256(contents[target]) for _, target in package.files},
    }


def manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def readme_head(package: Package, entry: dict) -> str:
    """The README's upper part: what the files are and where they came from."""
    spec = f"{package.npm or package.name}@{entry['version']}"
    lines = [
        f"# {package.title} {entry['version']} (vendored)",
        "",
        f"The files below are copied unchanged from the npm package `{spec}`",
        f"(`npm pack {spec}`, tarball sha256 {entry['tarball_sha256']})",
        "by `tools/vendor_assets.py`, which pins the version and the tarball's hash;",
        "`tools/vendor_assets.py --check` compares the files with this table offline.",
        "",
        "| file | from the package | sha256 |",
        "|---|---|---|",
    ]
    for source, target in package.files:  # in the table's order (the manifest sorts its keys)
        lines.append(f"| `{target}` | `{source}` | {entry['files'].get(target, 'missing')} |")
    lines += ["", MARKER]
    return "\n".join(lines) + "\n"


def readme_notes(path: Path) -> str:
    """What follows the marker in an existing README (hand-written notes)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if MARKER not in text:
        raise VendorError(f"{shown(path)} lacks the marker line; add it above the notes:\n{MARKER}")
    return text.split(MARKER + "\n", 1)[1] if MARKER + "\n" in text else ""


def on_disk(folder: Path) -> set[str]:
    """Every file under a vendor folder but its README, as paths relative to it."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {README}


def shown(path: Path) -> str:
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def load_manifest(vendor: Path) -> dict:
    path = vendor / MANIFEST
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def refresh(packages: list[Package], vendor: Path = VENDOR) -> list[str]:
    """Fetch, verify, then write; answers what was written or removed."""
    fetched = {}
    with tempfile.TemporaryDirectory(prefix="linli-vendor-") as workdir:
        for package in packages:
            fetched[package.name] = read_files(package, pack(package, Path(workdir)))
    for package in packages:  # every README must be rewritable before the first file is touched
        readme_notes(vendor / package.name / README)
    changed = []
    manifest = load_manifest(vendor)
    for package in packages:
        folder = vendor / package.name
        contents = fetched[package.name]
        for target, data in contents.items():
            if write_if_changed(folder / target, data):
                changed.append(f"wrote {shown(folder / target)}")
        for stale in sorted(on_disk(folder) - set(contents)):  # a file the new version no longer has
            (folder / stale).unlink()
            changed.append(f"removed {shown(folder / stale)}")
        manifest[package.name] = manifest_entry(package, contents)
        readme = folder / README
        text = readme_head(package, manifest[package.name]) + readme_notes(readme)
        if write_if_changed(readme, text.encode("utf-8")):
            changed.append(f"wrote {shown(readme)}")
    if write_if_changed(vendor / MANIFEST, manifest_text(manifest).encode("utf-8")):
        changed.append(f"wrote {shown(vendor / MANIFEST)}")
    return changed


def check(pinned_packages: tuple[Package, ...] = PINNED, vendor: Path = VENDOR) -> list[str]:
    """Every difference between the committed vendor folders and PINNED; empty when they match."""
    problems = []
    try:
        manifest = load_manifest(vendor)
    except ValueError as exc:
        return [f"{shown(vendor / MANIFEST)} is not JSON: {exc}"]
    if not manifest:
        return [f"{shown(vendor / MANIFEST)} is missing: run tools/vendor_assets.py"]
    pinned = {package.name: package for package in pinned_packages}
    for name in sorted(set(manifest) - set(pinned)):
        problems.append(f"MANIFEST.json names {name}, which PINNED does not")
    folders = {p.name for p in vendor.iterdir() if p.is_dir()}
    for name in sorted(folders - set(pinned)):
        problems.append(f"{shown(vendor / name)}/ is not a pinned package")
    for package in pinned_packages:
        entry = manifest.get(package.name)
        folder = vendor / package.name
        if entry is None:
            problems.append(f"{package.name}: not in MANIFEST.json; run tools/vendor_assets.py {package.name}")
            continue
        for key in ("version", "tarball_sha256"):
            if entry.get(key) != getattr(package, key):
                problems.append(f"{package.name}: MANIFEST.json has {key} {entry.get(key)}, PINNED "
                                f"{getattr(package, key)}; run tools/vendor_assets.py {package.name}")
        files = entry.get("files", {})
        listed = [target for _, target in package.files]
        if set(files) != set(listed):
            problems.append(f"{package.name}: MANIFEST.json lists {sorted(files)}, PINNED {sorted(listed)}")
        for target, digest in files.items():
            path = folder / target
            if not path.is_file():
                problems.append(f"{package.name}: {target} is missing")
            elif sha256(path.read_bytes()) != digest:
                problems.append(f"{package.name}: {target} differs from {package.spec}")
        for extra in sorted(on_disk(folder) - set(files)) if folder.is_dir() else ():
            problems.append(f"{package.name}: {extra} is not in the package's file table")
        readme = folder / README
        try:
            expected = readme_head(package, entry) + readme_notes(readme)
        except VendorError as exc:
            problems.append(str(exc))
            continue
        if readme.read_text(encoding="utf-8") != expected:
            problems.append(f"{package.name}: {README} above the marker is not what tools/vendor_assets.py writes")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="*", metavar="PACKAGE",
                        help="packages to refresh (default: all): " + ", ".join(p.name for p in PINNED))
    parser.add_argument("--check", action="store_true", help="verify the committed files offline; write nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print("vendor files match " + ", ".join(p.spec for p in PINNED))
        return 1 if problems else 0
    names = {package.name: package for package in PINNED}
    unknown = [name for name in args.packages if name not in names]
    if unknown:
        parser.error(f"not pinned: {', '.join(unknown)}")
    packages = [names[name] for name in args.packages] or list(PINNED)
    try:
        changed = refresh(packages)
    except VendorError as exc:
        print(exc, file=sys.stderr)
        return 1
    for line in changed:
        print(line)
    print("unchanged" if not changed else f"{len(changed)} file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
