"""The Simplified Chinese catalogue: complete, compiled, and used by the pages.

GNU gettext is not needed here: polib compiles, and the check that every
string of the code is in the catalogue reads the code itself (Python through
``ast``, templates through the ``{% translate %}`` tags).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import polib
import pytest
from django.test import override_settings
from django.utils import translation

REPO = Path(__file__).resolve().parent.parent


def _load_compiler():
    # tools/ is not a package: load the script by path, however pytest was started.
    spec = importlib.util.spec_from_file_location("compile_messages", REPO / "tools" / "compile_messages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_compiler = _load_compiler()
catalogues, compile_po = _compiler.catalogues, _compiler.compile_po
PO = REPO / "linli" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdrfi]")


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(PO))


def test_every_catalogue_has_its_compiled_mo_up_to_date(tmp_path):
    pos = catalogues()
    assert PO in pos
    for po_path in pos:
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.exists(), f"{mo_path} is missing: run tools/compile_messages.py"
        fresh = compile_po(po_path, tmp_path / "fresh.mo")
        assert fresh.read_bytes() == mo_path.read_bytes(), (
            f"{mo_path} is stale: run tools/compile_messages.py"
        )


def test_chinese_catalogue_has_no_untranslated_or_fuzzy_entries(catalogue):
    assert catalogue.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    assert not catalogue.metadata_is_fuzzy
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []


def test_translations_keep_their_placeholders(catalogue):
    for entry in catalogue.translated_entries():
        translations = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for msgstr in translations:
            assert sorted(PLACEHOLDER.findall(msgstr)) == sorted(PLACEHOLDER.findall(entry.msgid)), entry.msgid


_GETTEXT = {
    "_": (0, None), "gettext": (0, None), "gettext_lazy": (0, None),
    "ngettext": (0, None), "ngettext_lazy": (0, None),
    "pgettext": (1, 0), "pgettext_lazy": (1, 0), "npgettext": (1, 0), "npgettext_lazy": (1, 0),
}


def _python_msgids():
    for path in sorted((REPO / "linli").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in _GETTEXT:
                continue
            msg_index, ctx_index = _GETTEXT[name]
            args = node.args
            if len(args) <= msg_index or not isinstance(args[msg_index], ast.Constant):
                continue
            if not isinstance(args[msg_index].value, str):
                continue
            context = args[ctx_index].value if ctx_index is not None and isinstance(args[ctx_index], ast.Constant) else None
            yield path, context, args[msg_index].value


_TEMPLATE_TAG = re.compile(
    r"""{%\s*(?:translate|trans)\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""(?:\s+context\s+("[^"]*"|'[^']*'))?"""
)


def _template_msgids():
    for path in sorted((REPO / "linli").rglob("*.html")):
        for match in _TEMPLATE_TAG.finditer(path.read_text(encoding="utf-8")):
            context = match.group(2)[1:-1] if match.group(2) else None
            # makemessages doubles "%" of {% translate %} strings (and Django looks
            # them up doubled), so "%(name)s" there is "%%(name)s" in the catalogue.
            yield path, context, match.group(1)[1:-1].replace("%", "%%")


def test_every_string_of_the_code_is_in_the_catalogue(catalogue):
    known = {(e.msgctxt, e.msgid) for e in catalogue if not e.obsolete}
    missing = sorted(
        f"{path.relative_to(REPO)}: {msgid!r}"
        for path, context, msgid in [*_python_msgids(), *_template_msgids()]
        if msgid and (context, msgid) not in known
    )
    assert missing == [], "run makemessages in linli/ and translate:\n" + "\n".join(missing)


@override_settings(LANGUAGE_CODE="zh-hans")
def test_login_page_is_chinese_by_default(client, db):
    text = client.get("/accounts/login/").content.decode()
    assert "登录" in text
    assert "Sign in" not in text
    assert '<html lang="zh-hans">' in text


def test_login_page_in_english_on_request(client, db):
    text = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign in" in text
    assert "登录" not in text


def test_browser_asking_for_zh_cn_gets_simplified_chinese(client, db):
    text = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5").content.decode()
    assert "登录" in text


def test_model_and_error_texts_are_translated():
    from linli.community.models import Resident, StaffRole
    from linli.core.validators import validate_phone
    from django.core.exceptions import ValidationError

    with translation.override("zh-hans"):
        assert str(Resident._meta.get_field("phone").verbose_name) == "手机号"
        assert str(StaffRole.Role.GRID_WORKER.label) == "网格员"
        with pytest.raises(ValidationError) as exc:
            validate_phone("12345")
        assert exc.value.messages == ["手机号为11位，以13至19开头。"]
