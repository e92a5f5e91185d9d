"""Witnesses: registering them, accepting their cosignatures (service and POST view), and the
street office's witness run (``linli.transparency.witness.run``) against a live server."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import transaction
from django.utils import translation

from linli.community.models import Community, District, StaffRole, Street
from linli.core import signednote
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.models import Event
from linli.transparency import cosign, keys, selectors, services, witness
from linli.transparency.models import Cosignature, Witness

from factories import _role, _user

WITNESS_NAME = "street.example"


def _community(code="W1"):
    district, _ = District.objects.get_or_create(code="510199", defaults={"name": "测试区"})
    street, _ = Street.objects.get_or_create(district=district, code="510199001",
                                             defaults={"name": "测试街道"})
    return Community.objects.create(street=street, code=code, name=f"{code}社区")


def _leaves(start, count):
    return [json.dumps({"v": 1, "n": i}, separators=(",", ":")).encode() for i in range(start, start + count)]


@pytest.fixture
def log_key(settings, tmp_path):
    """The installation's checkpoint signing key, written to tmp."""
    path = tmp_path / "log.key"
    verifier = keys.keygen("linli.example", path)
    settings.LINLI_DISCLOSURE_KEY_FILE = str(path)
    return str(verifier)


@pytest.fixture
def witness_key(tmp_path):
    """The street's key file (a `linli disclosure keygen` signer key) and its cosignature signer."""
    path = tmp_path / "witness.key"
    keys.keygen(WITNESS_NAME, path)
    return path, witness.witness_signer(path)


@pytest.fixture
def logged(db, log_key, witness_key):
    """A community whose log holds 5 signed entries and the street registered as its witness."""
    community = _community()
    with transaction.atomic():
        services.append_and_sign(community=community, leaves=_leaves(0, 5))
    cosign.add_witness(actor=None, community=community, name=WITNESS_NAME,
                       verifier_key=witness.witness_verifier_key(witness_key[0]))
    return community


def _line(community, signer, when=1_700_000_000):
    text = selectors.latest_checkpoint(community).note
    return signednote.cosign(text[: text.rfind("\n\n") + 1], signer, timestamp=when).line()


# ------------------------------------------------------------------ the service ---


def test_a_registered_witness_cosignature_is_stored_served_and_verifies(logged, log_key, witness_key):
    line = _line(logged, witness_key[1])
    stored = cosign.accept_cosignature(community=logged, line=line)
    assert stored.line == line and stored.checkpoint.size == 5
    assert stored.timestamp.timestamp() == 1_700_000_000
    assert Event.objects.filter(verb="transparency.cosigned", community_id=logged.pk).count() == 1
    served = selectors.served_checkpoint(logged)
    assert served.endswith(line)
    note = signednote.open_note(served.encode(), [signednote.parse_verifier(log_key),
                                                  witness_key[1].verifier])
    assert [s.name for s in note.sigs] == ["linli.example", WITNESS_NAME]
    assert [(name, size) for name, _, size in selectors.witnessed(logged)] == [(WITNESS_NAME, 5)]
    # the same witness again for the same checkpoint: its first line stays, nothing new written
    again = cosign.accept_cosignature(community=logged, line=_line(logged, witness_key[1], when=1_700_000_500))
    assert again.pk == stored.pk
    assert Cosignature.objects.count() == 1
    assert Event.objects.filter(verb="transparency.cosigned").count() == 1


def test_an_older_checkpoint_can_be_cosigned_and_named_by_size(logged, witness_key):
    old_line = _line(logged, witness_key[1])
    with transaction.atomic():
        services.append_and_sign(community=logged, leaves=_leaves(5, 3))
    assert cosign.accept_cosignature(community=logged, line=old_line).checkpoint.size == 5
    new_line = _line(logged, witness_key[1])
    assert cosign.accept_cosignature(community=logged, line=new_line, size=8).checkpoint.size == 8
    with pytest.raises(InvalidInput) as wrong:  # a valid line, but over another checkpoint
        cosign.accept_cosignature(community=logged, line=old_line, size=8)
    assert wrong.value.code == "bad_signature"
    with pytest.raises(NotFound):
        cosign.accept_cosignature(community=logged, line=new_line, size=7)


def _flip(line: str, bit: int) -> str:
    prefix, b64 = line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[bit // 8] ^= 1 << (bit % 8)
    return f"{prefix} {base64.b64encode(bytes(raw)).decode()}\n"


def test_refusals_are_translated_and_write_nothing(logged, witness_key):
    line = _line(logged, witness_key[1])
    stranger = signednote.generate_signer("other.street", alg=signednote.ALG_COSIGNATURE_V1)
    impostor = signednote.Signer(WITNESS_NAME, signednote.generate_signer("x").private_key,
                                 signednote.ALG_COSIGNATURE_V1)
    text = signednote.checkpoint_text(selectors.log_for(logged).origin, 4, b"\x00" * 32)
    cases = [
        (_line(logged, stranger), "unknown_witness"),
        (_line(logged, impostor), "unknown_witness"),  # the name, another key
        (_flip(line, 4 * 8 + 8 * 8 + 3), "bad_signature"),  # a bit of the signature
        (_flip(line, 4 * 8 + 7), "bad_signature"),  # a bit of the time
        (_flip(line, 0), "unknown_witness"),  # a bit of the key id
        (signednote.cosign(text, witness_key[1], timestamp=1).line(), "bad_signature"),  # not signed
        ("", "malformed"),
        ("— street.example\n", "malformed"),
        (line.replace("— ", "- "), "malformed"),
        (line.rstrip("\n") + "=\n", "malformed"),
        (line + line, "malformed"),
        (line.rstrip("\n")[:-4] + "\n", "malformed"),
    ]
    for bad, code in cases:
        with translation.override("zh-hans"), pytest.raises(InvalidInput) as refused:
            cosign.accept_cosignature(community=logged, line=bad)
        assert refused.value.code == code, bad
        assert str(refused.value.message)
    assert Cosignature.objects.count() == 0
    assert not Event.objects.filter(verb="transparency.cosigned").exists()


def test_a_retired_witness_is_refused(logged, witness_key):
    cosign.deactivate_witness(actor=None, community=logged, name=WITNESS_NAME)
    with pytest.raises(InvalidInput) as refused:
        cosign.accept_cosignature(community=logged, line=_line(logged, witness_key[1]))
    assert refused.value.code == "unknown_witness"


def test_no_log_no_checkpoint(db, log_key, witness_key):
    community = _community("W2")
    with pytest.raises(NotFound):
        cosign.accept_cosignature(community=community, line=_line_for_nothing(witness_key[1]))
    with pytest.raises(NotFound):
        cosign.add_witness(actor=None, community=community, name=WITNESS_NAME,
                           verifier_key=str(witness_key[1].verifier))


def _line_for_nothing(signer):
    return signednote.cosign(signednote.checkpoint_text("x", 1, b"\x00" * 32), signer, timestamp=1).line()


def test_only_the_communitys_admin_registers_witnesses(logged, witness_key):
    key = str(witness_key[1].verifier)
    admin, worker = _user("w_admin"), _user("w_worker")
    _role(admin, StaffRole.Role.COMMUNITY_ADMIN, community=logged)
    _role(worker, StaffRole.Role.COMMUNITY_WORKER, community=logged)
    with pytest.raises(PermissionDenied):
        cosign.add_witness(actor=worker, community=logged, name="district.example", verifier_key=key)
    other = signednote.generate_signer("district.example", alg=signednote.ALG_COSIGNATURE_V1)
    added = cosign.add_witness(actor=admin, community=logged, name="district.example",
                               verifier_key=str(other.verifier))
    assert added.active and Witness.objects.filter(log__community=logged).count() == 2
    event = Event.objects.filter(verb="transparency.witness_added", actor=admin).get()
    assert event.data["witness"] == "district.example"
    log_signer = signednote.generate_signer("district.example")
    for name, verifier_key in [("district.example", str(log_signer.verifier)),  # a 0x01 key
                               ("someone.else", str(other.verifier)),  # the key names another
                               ("district.example", "not a key")]:
        with pytest.raises(InvalidInput):
            cosign.add_witness(actor=admin, community=logged, name=name, verifier_key=verifier_key)


# ---------------------------------------------------------------- the POST view ---


def _post(client, code, body, content_type="text/plain", query=""):
    return client.post(f"/disclosure/{code}/log/cosignature{query}", data=body, content_type=content_type)


def test_the_post_view(client, logged, witness_key):
    line = _line(logged, witness_key[1])
    bad = _post(client, logged.code, _flip(line, 4 * 8 + 8 * 8))
    assert bad.status_code == 400 and bad.json()["code"] == "bad_signature"
    assert _post(client, logged.code, line, content_type="application/json").status_code == 400
    assert _post(client, logged.code, "x" * 5000).json()["code"] == "too_large"
    assert _post(client, logged.code, line, query="?size=x").status_code == 400
    assert _post(client, logged.code, line, query="?size=9").status_code == 404
    assert _post(client, "NOPE", line).status_code == 404
    assert client.get(f"/disclosure/{logged.code}/log/cosignature").status_code == 405
    assert Cosignature.objects.count() == 0
    ok = _post(client, logged.code, line, content_type="text/plain; charset=utf-8", query="?size=5")
    assert ok.status_code == 201, ok.content
    assert ok.json()["witness"] == WITNESS_NAME and ok.json()["size"] == 5
    assert "no-store" in ok["Cache-Control"]
    assert client.get(f"/disclosure/{logged.code}/log/checkpoint").content.decode().endswith(line)


# ------------------------------------------------------------ the witness's run ---


@pytest.fixture
def live(live_server, transactional_db, monkeypatch, log_key, witness_key):
    monkeypatch.setenv("NO_PROXY", "*")
    community = _community("W3")
    with transaction.atomic():
        services.append_and_sign(community=community, leaves=_leaves(0, 20))
    cosign.add_witness(actor=None, community=community, name=WITNESS_NAME,
                       verifier_key=witness.witness_verifier_key(witness_key[0]))
    return community, f"{live_server.url}/disclosure/{community.code}/log"


def test_the_witness_trusts_first_then_follows_the_log_as_it_grows(live, log_key, witness_key, tmp_path):
    community, url = live
    state = tmp_path / "witness.json"
    with pytest.raises(witness.WitnessError, match="--log-key"):
        witness.run(url, state=state, key=witness_key[0], log_key=None)
    assert not state.exists()

    line = witness.run(url, state=state, key=witness_key[0], log_key=log_key)
    remembered = json.loads(state.read_text())
    assert remembered["size"] == 20 and remembered["log_key"] == log_key
    assert selectors.served_checkpoint(community).endswith(line)

    with transaction.atomic():
        services.append_and_sign(community=community, leaves=_leaves(20, 13))
    # the board's own URL works too; the key now comes from the state
    second = witness.run(url.removesuffix("log"), state=state, key=witness_key[0], log_key=None)
    assert json.loads(state.read_text())["size"] == 33
    assert selectors.served_checkpoint(community).endswith(second)
    assert [(name, size) for name, _, size in selectors.witnessed(community)] == [(WITNESS_NAME, 33)]
    # nothing new: the same checkpoint again is fine
    witness.run(url, state=state, key=witness_key[0], log_key=log_key)
    assert Cosignature.objects.filter(checkpoint__log__community=community).count() == 2


def _state(log_key, origin, size, root: bytes):
    return json.dumps({"log_key": log_key, "origin": origin, "size": size,
                       "root": base64.b64encode(root).decode()})


def test_the_witness_refuses_a_log_that_shrank_forked_or_is_signed_by_another_key(
        live, log_key, witness_key, tmp_path):
    community, url = live
    origin = selectors.log_for(community).origin
    other_key = str(signednote.generate_signer("linli.example").verifier)
    root_10 = selectors.root(community, 10)
    refusals = [
        (_state(log_key, origin, 25, root_10), "shrank"),
        (_state(log_key, origin, 20, root_10), "forked"),  # same size, another root
        (_state(log_key, origin, 10, b"\x07" * 32), "forked"),  # no consistency proof fits
        (_state(log_key, "elsewhere/disclosure/W3", 10, root_10), "origin"),
        (_state(other_key, origin, 10, root_10), "signature"),
    ]
    for text, why in refusals:
        state = tmp_path / "state.json"
        state.write_text(text)
        with pytest.raises(witness.WitnessError, match=why):
            witness.run(url, state=state, key=witness_key[0], log_key=None)
        assert state.read_text() == text  # never updated on a refusal
    state.write_text(_state(log_key, origin, 10, root_10))
    with pytest.raises(witness.WitnessError, match="differs"):
        witness.run(url, state=state, key=witness_key[0], log_key=other_key)
    assert Cosignature.objects.count() == 0
    # and the honest state passes
    witness.run(url, state=state, key=witness_key[0], log_key=None)
    assert json.loads(state.read_text())["size"] == 20
    assert Cosignature.objects.get().timestamp.timestamp() > 1_700_000_000


def test_the_witness_refuses_before_any_request_when_it_cannot_remember(witness_key, tmp_path, log_key,
                                                                         monkeypatch):
    monkeypatch.setenv("NO_PROXY", "*")
    unreachable = "http://127.0.0.1:9/disclosure/W9/log"  # the discard port: nothing answers
    with pytest.raises(witness.WitnessError, match="folder"):
        witness.run(unreachable, state=tmp_path / "missing" / "s.json", key=witness_key[0], log_key=log_key)
    with pytest.raises(witness.WitnessError, match="http"):
        witness.run("file:///etc/passwd", state=tmp_path / "s.json", key=witness_key[0], log_key=log_key)
    with pytest.raises(witness.WitnessError, match="key file"):
        witness.run(unreachable, state=tmp_path / "s.json", key=tmp_path / "none.key", log_key=log_key)
    with pytest.raises(witness.WitnessError, match="127.0.0.1:9"):
        witness.run(unreachable, state=tmp_path / "s.json", key=witness_key[0], log_key=log_key)
    (tmp_path / "s.json").write_text("{not json")
    with pytest.raises(witness.WitnessError, match="state file"):
        witness.run(unreachable, state=tmp_path / "s.json", key=witness_key[0], log_key=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.key", "s.json", "witness.key"]
