"""A witness named as residents know it — a non-ASCII key name such as the demo's
"<street>街道办事处" (linli.demo.disclosure.witness_name) — keeps the log checkable: the Go client
(on golang.org/x/mod/sumdb/note) accepts the checkpoint with that cosignature on it, and the
key files of such a name are written and read back (UTF-8). tools/verify_disclosure.py's check
over the demo's own log, with this witness, is in tests/test_demo_disclosure.py."""

from __future__ import annotations

import pytest
from django.db import transaction

from linli.community.models import Community, District, Street
from linli.core import signednote
from linli.transparency import cosign, keys, selectors, services, witness

from test_transparency_go import _leaf, _run, go_client  # noqa: F401  (the fixture)

NAME = "测试街道办事处"


def test_a_witness_key_file_with_a_chinese_name_round_trips(tmp_path):
    path = tmp_path / "street-witness.key"
    verifier = keys.keygen(NAME, path)
    assert str(verifier).startswith(f"{NAME}+")
    assert witness.witness_signer(path).name == NAME


@pytest.mark.django_db(transaction=True)
def test_the_go_client_accepts_a_cosignature_under_a_chinese_name(go_client, live_server, settings,  # noqa: F811
                                                                  tmp_path, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "*")
    path = tmp_path / "log.key"
    log_key = str(keys.keygen("linli.example", path))
    settings.LINLI_DISCLOSURE_KEY_FILE = str(path)
    district = District.objects.create(code="510197", name="测试区")
    street = Street.objects.create(district=district, code="510197001", name="测试街道")
    community = Community.objects.create(street=street, code="G2", name="G2社区")
    with transaction.atomic():
        services.append_and_sign(community=community, leaves=[_leaf(i) for i in range(20)])
    keys.keygen(NAME, tmp_path / "w.key")
    signer = witness.witness_signer(tmp_path / "w.key")
    cosign.add_witness(actor=None, community=community, name=NAME,
                       verifier_key=witness.witness_verifier_key(tmp_path / "w.key"))
    text = selectors.latest_checkpoint(community).note
    cosign.accept_cosignature(community=community, line=signednote.cosign(
        text[: text.rfind("\n\n") + 1], signer, timestamp=1_700_000_000).line())
    assert f"— {NAME} " in selectors.served_checkpoint(community)
    ok = _run(go_client, f"{live_server.url}/disclosure/{community.code}/log", log_key)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "size 20 " in ok.stdout and "1 other signature" in ok.stdout
