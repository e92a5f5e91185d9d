"""The static files: vendored libraries pinned by tools/vendor_assets.py, and one request helper.

The vendor checks run offline (`--check` hashes the committed files against the manifest the
script writes; a refresh is tested with a tarball made here instead of npm). The page scripts
talk to the server only through linli/static/linli/http.js: the source checks say each script
and each template that loads one keeps to that, and the helper's own behaviour (CSRF token,
the error shape, a network failure) runs in the system Chromium, with every answer faked.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.browser.conftest import browser  # noqa: F401  (the module-scoped system Chromium)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "tools" / "vendor_assets.py"
STATIC = REPO / "linli" / "static" / "linli"
HELPER = "http.js"
# The page scripts that talk to the server; each must do it through the helper.
CALLERS = ("cases.js", "map.js", "reply_check.js")


def load_tool():
    # tools/ is not a package: load the script by path, however pytest was started.
    spec = importlib.util.spec_from_file_location("vendor_assets", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("vendor_assets", module)  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


vendor_assets = load_tool()


# ---- the vendored libraries ----


def test_the_committed_vendor_files_match_the_pinned_versions():
    run = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert "leaflet@1.9.4" in run.stdout and "echarts@6.1.0" in run.stdout


def test_every_vendored_file_is_in_the_manifest_and_its_readme():
    manifest = json.loads((vendor_assets.VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
    for package in vendor_assets.PINNED:
        readme = (vendor_assets.VENDOR / package.name / "README.md").read_text(encoding="utf-8")
        assert f"`{package.spec}`" in readme and package.tarball_sha256 in readme
        for _, target in package.files:
            digest = hashlib.sha256((vendor_assets.VENDOR / package.name / target).read_bytes()).hexdigest()
            assert manifest[package.name]["files"][target] == digest
            assert f"| `{target}` |" in readme and digest in readme


def package_tarball(path: Path, files: dict[str, bytes]) -> Path:
    """A tarball laid out as npm packs one (everything under package/)."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A pinned package "toy" whose tarball npm would give; its vendor folder in tmp_path."""
    tarball = package_tarball(tmp_path / "toy-1.0.0.tgz", {
        "dist/toy.js": b"var toy = 1;\n", "LICENSE": b"MIT\n", "src/unused.js": b"not copied\n"})
    package = vendor_assets.Package(
        name="toy", title="Toy", version="1.0.0",
        tarball_sha256=hashlib.sha256(tarball.read_bytes()).hexdigest(),
        files=(("dist/toy.js", "toy.js"), ("LICENSE", "LICENSE")))
    vendor = tmp_path / "vendor"
    (vendor / "toy").mkdir(parents=True)
    (vendor / "toy" / "README.md").write_text(f"old text\n{vendor_assets.MARKER}\nNotes kept.\n", encoding="utf-8")
    packed = []

    def pack(pkg, workdir):
        packed.append(f"{pkg.name}@{pkg.version}")
        return tarball

    monkeypatch.setattr(vendor_assets, "pack", pack)
    return package, vendor, packed


def test_a_refresh_copies_the_listed_files_and_a_second_one_changes_nothing(toy):
    package, vendor, packed = toy
    (vendor / "toy" / "old.js").write_bytes(b"from the previous version\n")

    changed = vendor_assets.refresh([package], vendor=vendor)

    assert packed == ["toy@1.0.0"]
    assert (vendor / "toy" / "toy.js").read_bytes() == b"var toy = 1;\n"
    assert not (vendor / "toy" / "old.js").exists() and not (vendor / "toy" / "unused.js").exists()
    assert any(line.startswith("removed ") and line.endswith("old.js") for line in changed)
    readme = (vendor / "toy" / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Toy 1.0.0 (vendored)\n") and readme.endswith(vendor_assets.MARKER + "\nNotes kept.\n")
    assert hashlib.sha256(b"var toy = 1;\n").hexdigest() in readme and "old text" not in readme
    assert vendor_assets.check((package,), vendor) == []
    before = {p: p.read_bytes() for p in vendor.rglob("*") if p.is_file()}

    assert vendor_assets.refresh([package], vendor=vendor) == []
    assert {p: p.read_bytes() for p in vendor.rglob("*") if p.is_file()} == before


def test_a_tarball_with_another_hash_writes_nothing(toy):
    package, vendor, _ = toy
    wrong = vendor_assets.Package(name="toy", title="Toy", version="1.0.0", tarball_sha256="0" * 64,
                                  files=package.files)
    with pytest.raises(vendor_assets.VendorError, match="nothing written"):
        vendor_assets.refresh([wrong], vendor=vendor)
    assert sorted(p.name for p in (vendor / "toy").iterdir()) == ["README.md"]
    assert not (vendor / "MANIFEST.json").exists()


def test_the_check_finds_a_changed_a_missing_and_a_stray_file_and_an_old_pin(toy):
    package, vendor, _ = toy
    vendor_assets.refresh([package], vendor=vendor)
    (vendor / "toy" / "toy.js").write_bytes(b"var toy = 2;\n")
    (vendor / "toy" / "LICENSE").unlink()
    (vendor / "toy" / "extra.js").write_bytes(b"dropped in by hand\n")
    (vendor / "unpinned").mkdir()
    newer = vendor_assets.Package(name="toy", title="Toy", version="1.1.0", tarball_sha256=package.tarball_sha256,
                                  files=package.files)

    problems = vendor_assets.check((newer,), vendor)

    assert "toy: toy.js differs from toy@1.1.0" in problems
    assert "toy: LICENSE is missing" in problems
    assert "toy: extra.js is not in the package's file table" in problems
    assert any("unpinned/ is not a pinned package" in p for p in problems)
    assert any("MANIFEST.json has version 1.0.0, PINNED 1.1.0" in p for p in problems)


def test_the_check_finds_a_hand_edited_readme_table(toy):
    package, vendor, _ = toy
    vendor_assets.refresh([package], vendor=vendor)
    readme = vendor / "toy" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("| `LICENSE` |", "| `COPYING` |"), encoding="utf-8")
    assert vendor_assets.check((package,), vendor) == [
        "toy: README.md above the marker is not what tools/vendor_assets.py writes"]


# ---- one request helper ----


def test_the_page_scripts_make_no_request_of_their_own():
    for name in CALLERS:
        source = (STATIC / name).read_text(encoding="utf-8")
        assert "window.linliHttp" in source, f"{name} does not use the request helper"
    for path in STATIC.glob("*.js"):
        if path.name == HELPER:
            continue
        source = path.read_text(encoding="utf-8")
        for own in ("XMLHttpRequest", "fetch(", "csrfmiddlewaretoken", "X-Requested-With", "JSON.parse(request"):
            assert own not in source, f"{path.name} does its own requests ({own}); use {HELPER}"


SCRIPT_TAG = re.compile(r"<script\b[^>]*\bsrc=\"\{% static '([^']+)' %\}\"([^>]*)>")


def test_every_template_loads_the_helper_before_a_script_that_uses_it():
    users = {f"linli/{path.name}" for path in STATIC.glob("*.js")
             if path.name != HELPER and "linliHttp" in path.read_text(encoding="utf-8")}
    assert users >= {f"linli/{name}" for name in CALLERS}
    loading = 0
    for template in sorted((REPO / "linli").rglob("templates/**/*.html")):
        tags = SCRIPT_TAG.findall(template.read_text(encoding="utf-8"))
        for i, (src, attributes) in enumerate(tags):
            if src not in users:
                continue
            loading += 1
            # Deferred scripts run in document order: the helper's tag must come first, deferred alike.
            earlier = [(s, a) for s, a in tags[:i] if s == f"linli/{HELPER}"]
            assert earlier, f"{template.relative_to(REPO)} loads {src} without linli/{HELPER} before it"
            assert earlier[-1][1].split() == attributes.split(), (
                f"{template.relative_to(REPO)}: linli/{HELPER} and {src} are not loaded alike")
    assert loading >= 4  # _head.html (cases.js), _map.html (map.js, twice), _reply_check.html


@pytest.fixture
def helper_page(browser):  # noqa: F811
    """A page on a made-up origin whose every request is answered here; requests are recorded."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    seen = []
    answers = {
        "/page": (200, "text/html", '<form><input name="csrfmiddlewaretoken" value="form-token"></form>'
                                    '<script src="/static/linli/http.js"></script>'),
        "/bare": (200, "text/html", '<script src="/static/linli/http.js"></script>'),
        "/static/linli/http.js": (200, "text/javascript", (STATIC / HELPER).read_text(encoding="utf-8")),
        "/ok": (200, "application/json", '{"category": 7}'),
        "/refused": (404, "application/json",
                     '{"code": "not_found", "message": "Unknown community.", "field": "community"}'),
        "/broken": (500, "text/html", "<h1>Server Error</h1>"),
    }

    def answer(route):
        request = route.request
        path = "/" + request.url.split("/", 3)[3]
        seen.append((request.method, path, request.headers))
        if path == "/unreachable":
            route.abort("connectionfailed")
            return
        status, content_type, body = answers[path]
        route.fulfill(status=status, content_type=content_type, body=body)

    page.route("http://linli.test/**", answer)
    page.goto("http://linli.test/page")
    yield page, seen, context
    context.close()


CALL = """([method, url]) => new Promise((resolve) => {
  const data = new FormData();
  data.append("description", "lift broken");
  const options = {form: document.querySelector("form"),
                   done: (answer, status) => resolve({done: answer, status: status}),
                   fail: (error) => resolve({fail: error})};
  if (method === "GET") { window.linliHttp.get(url, options); } else { window.linliHttp.post(url, data, options); }
})"""


@pytest.mark.browser
def test_the_helper_answers_in_one_shape(helper_page):
    page, seen, _ = helper_page

    assert page.evaluate(CALL, ["POST", "/ok"]) == {"done": {"category": 7}, "status": 200}
    method, path, headers = seen[-1]
    assert (method, path) == ("POST", "/ok")
    assert headers["x-csrftoken"] == "form-token" and headers["x-requested-with"] == "XMLHttpRequest"

    assert page.evaluate(CALL, ["POST", "/refused"]) == {"fail": {
        "code": "not_found", "message": "Unknown community.", "field": "community", "status": 404}}
    assert page.evaluate(CALL, ["POST", "/broken"]) == {"fail": {
        "code": "bad_answer", "message": "", "field": None, "status": 500}}
    assert page.evaluate(CALL, ["POST", "/unreachable"]) == {"fail": {
        "code": "network", "message": "", "field": None, "status": 0}}

    assert page.evaluate(CALL, ["GET", "/ok"]) == {"done": {"category": 7}, "status": 200}
    method, _, headers = seen[-1]
    assert method == "GET" and "x-csrftoken" not in headers and headers["accept"] == "application/json"


@pytest.mark.browser
def test_without_a_token_field_the_helper_takes_the_cookie(helper_page):
    page, seen, context = helper_page
    context.add_cookies([{"name": "csrftoken", "value": "cookie-token", "url": "http://linli.test/"}])
    page.goto("http://linli.test/bare")
    assert page.evaluate(CALL, ["POST", "/ok"])["status"] == 200
    assert seen[-1][2]["x-csrftoken"] == "cookie-token"
