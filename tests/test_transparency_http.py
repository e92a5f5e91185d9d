"""The log's HTTP interface (issue 9, item 4): exact paths, content types, caching, proofs that
verify with linli.core.tlog, and the bad inputs (400/404)."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from linli.community.models import Community, District, Street
from linli.core import signednote, tlog
from linli.transparency import keys, services


@pytest.fixture
def log(db, settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("linli.test", tmp_path / "signing.key")
    district = District.objects.create(code="510106", name="金牛区")
    street = Street.objects.create(district=district, code="510106001", name="驷马桥街道")
    community = Community.objects.create(street=street, code="Y", name="Y社区")
    Community.objects.create(street=street, code="Z", name="Z社区")  # no log
    tree = tlog.MemoryTree()
    for start, end in ((0, 5), (5, 300)):
        data = [f'{{"n":{i}}}'.encode() for i in range(start, end)]
        services.append_and_sign(community=community, leaves=data)
        for d in data:
            tree.append(d)
    return community, tree


def _get(path, **params):
    return Client().get(f"/disclosure/Y/log/{path}", params)


def _hashes(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return [base64.b64decode(h) for h in response.json()["hashes"]]


def test_key_and_checkpoint_are_text_and_verify(log):
    community, tree = log
    key = _get("key")
    assert key.status_code == 200 and key["Content-Type"] == "text/plain; charset=utf-8"
    assert key["Cache-Control"] == "public, max-age=31536000, immutable"
    verifier = signednote.parse_verifier(key.content.decode())
    checkpoint = _get("checkpoint")
    assert checkpoint.status_code == 200 and checkpoint["Content-Type"] == "text/plain; charset=utf-8"
    assert "immutable" not in checkpoint["Cache-Control"] and "max-age=" in checkpoint["Cache-Control"]
    note = signednote.open_note(checkpoint.content, [verifier])
    parsed = signednote.parse_checkpoint(note.text)
    assert (parsed.origin, parsed.size, parsed.root) == (keys.origin_for(community), 300, tree.root())


def test_entries_are_the_exact_leaf_bytes_in_pages(log):
    _, tree = log
    response = _get("entries", start=3, end=7)
    assert response.status_code == 200 and response["Cache-Control"] == "public, max-age=31536000, immutable"
    entries = response.json()["entries"]
    assert [e["index"] for e in entries] == [3, 4, 5, 6]
    assert all(tlog.leaf_hash(base64.b64decode(e["leaf"])) == tree.leaf(e["index"]) for e in entries)
    page = _get("entries", start=0, end=300).json()["entries"]
    assert len(page) == 256 and page[-1]["index"] == 255  # fewer than asked: clients page


def test_inclusion_and_consistency_proofs_verify(log):
    _, tree = log
    for index, size in ((0, 1), (4, 5), (0, 300), (299, 300), (150, 257)):
        response = _get("proof/inclusion", index=index, size=size)
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        tlog.verify_inclusion(tree.leaf(index), index, size, _hashes(response), tree.root(size))
    for first, second in ((1, 300), (5, 300), (128, 256), (7, 7), (255, 299)):
        proof = _hashes(_get("proof/consistency", first=first, second=second))
        tlog.verify_consistency(first, second, tree.root(first), tree.root(second), proof)
        assert len(proof) <= (second - 1).bit_length() + 1
    # From size 0 the proof is empty (docs/transparency.md, "Consistency from size 0").
    assert _hashes(_get("proof/consistency", first=0, second=300)) == []


@pytest.mark.parametrize("path,params", [
    ("entries", {"start": "x", "end": "3"}),
    ("entries", {"start": "-1", "end": "3"}),
    ("entries", {"start": "01", "end": "3"}),
    ("entries", {"start": "+1", "end": "3"}),
    ("entries", {"start": "1"}),
    ("entries", {"start": "3", "end": "3"}),
    ("entries", {"start": "5", "end": "2"}),
    ("entries", {"start": "0", "end": "301"}),
    ("entries", {"start": "300", "end": "301"}),
    ("entries", {"start": "0", "end": "99999999999999999999999"}),
    ("proof/inclusion", {"index": "300", "size": "300"}),
    ("proof/inclusion", {"index": "0", "size": "301"}),
    ("proof/inclusion", {"index": "0", "size": "0"}),
    ("proof/inclusion", {"index": "1.5", "size": "3"}),
    ("proof/inclusion", {"index": " 1", "size": "3"}),
    ("proof/inclusion", {"size": "3"}),
    ("proof/consistency", {"first": "5", "second": "4"}),
    ("proof/consistency", {"first": "1", "second": "301"}),
    ("proof/consistency", {"first": "", "second": "3"}),
    ("proof/consistency", {"first": "0x1", "second": "3"}),
])
def test_malformed_or_out_of_range_requests_are_400(log, path, params):
    response = _get(path, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] in ("bad_request", "out_of_range") and body["message"]


def test_repeated_parameters_are_400(log):
    assert Client().get("/disclosure/Y/log/proof/inclusion?index=1&index=2&size=3").status_code == 400


@pytest.mark.parametrize("path", ["checkpoint", "entries?start=0&end=1", "proof/inclusion?index=0&size=1",
                                  "proof/consistency?first=0&second=1"])
def test_unknown_community_or_empty_log_is_404(log, path):
    assert Client().get(f"/disclosure/NOPE/log/{path}").status_code == 404
    response = Client().get(f"/disclosure/Z/log/{path}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Client().get("/disclosure/NOPE/log/key").status_code == 404


def test_entries_and_proofs_stop_at_the_signed_size(log):
    community, tree = log
    services.append(community=community, leaves=[b"unsigned"])  # not yet in a checkpoint
    assert _get("entries", start=300, end=301).status_code == 400
    assert _get("proof/inclusion", index=0, size=301).status_code == 400
    assert _get("checkpoint").content.decode().split("\n")[1] == "300"


def test_without_a_key_the_key_is_404_and_the_log_still_reads(log, settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "gone.key")
    assert _get("key").status_code == 404
    assert _get("checkpoint").status_code == 200
    assert _get("entries", start=0, end=1).status_code == 200


def test_only_get(log):
    assert Client().post("/disclosure/Y/log/checkpoint").status_code == 405
