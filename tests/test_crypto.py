"""Sealed values (AES-256-GCM under a key ring) and blind indexes (HMAC)."""

import base64
import re

import pytest

from linli.core.crypto import (
    BLIND_INDEX_LENGTH, DecryptionError, Keyring, KeyringError, generate_key_entry, keyring,
)

KEY_A = "a:" + base64.urlsafe_b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.urlsafe_b64encode(b"B" * 32).decode()
CONTEXT = "community.Resident.phone"

PLAINTEXTS = ["13900000001", "张小明", "欧阳**锋 ·", "", "x" * 5000, "🙂 emoji", "a.b.c", "v1.a.AAAA"]


@pytest.mark.parametrize("plain", PLAINTEXTS)
def test_seal_then_open_gives_back_the_value(plain):
    ring = Keyring(KEY_A)
    token = ring.seal(plain, CONTEXT)
    assert ring.open(token, CONTEXT) == plain
    if plain:
        assert plain not in token


def test_a_sealed_value_names_its_version_and_key_and_is_url_safe():
    token = Keyring(KEY_A).seal("13900000001", CONTEXT)
    assert re.fullmatch(r"v1\.a\.[A-Za-z0-9_-]+", token)
    assert Keyring.key_id_of(token) == "a"


def test_sealing_twice_gives_different_ciphertexts():
    ring = Keyring(KEY_A)
    assert ring.seal("13900000001", CONTEXT) != ring.seal("13900000001", CONTEXT)


def _flip(token: str, index: int) -> str:
    chars = list(token)
    chars[index] = "A" if chars[index] != "A" else "B"
    return "".join(chars)


@pytest.mark.parametrize("where", ["first payload char", "middle", "last"])
def test_a_tampered_ciphertext_does_not_open(where):
    ring = Keyring(KEY_A)
    token = ring.seal("13900000001", CONTEXT)
    start = len("v1.a.")
    index = {"first payload char": start, "middle": (start + len(token)) // 2, "last": len(token) - 1}[where]
    with pytest.raises(DecryptionError):
        ring.open(_flip(token, index), CONTEXT)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-4],                 # truncated tag
    lambda t: t[: len("v1.a.") + 10],  # shorter than a nonce
    lambda t: "v1.a.",                # nothing at all
    lambda t: t + "AAAA",             # extra bytes
    lambda t: "v2" + t[2:],           # unknown format version
    lambda t: "13900000001",          # not sealed
    lambda t: "v1.a",                 # too few parts
])
def test_malformed_sealed_values_do_not_open(mangle):
    ring = Keyring(KEY_A)
    with pytest.raises(DecryptionError):
        ring.open(mangle(ring.seal("13900000001", CONTEXT)), CONTEXT)


def test_a_value_copied_into_another_column_does_not_open():
    ring = Keyring(KEY_A)
    token = ring.seal("13900000001", "community.Resident.phone")
    with pytest.raises(DecryptionError):
        ring.open(token, "community.Resident.note")


def test_a_value_relabelled_with_another_key_id_does_not_open():
    ring = Keyring(f"{KEY_A},{KEY_B}")
    token = ring.seal("13900000001", CONTEXT)
    with pytest.raises(DecryptionError):
        ring.open(token.replace("v1.a.", "v1.b.", 1), CONTEXT)


def test_a_key_missing_from_the_ring_is_named():
    token = Keyring(KEY_A).seal("13900000001", CONTEXT)
    with pytest.raises(DecryptionError, match="'a' is not in LINLI_DATA_KEY"):
        Keyring(KEY_B).open(token, CONTEXT)


def test_the_first_key_is_active_and_the_others_still_open():
    old_token = Keyring(KEY_A).seal("13900000001", CONTEXT)
    ring = Keyring(f"{KEY_B}, {KEY_A}")
    assert ring.active.key_id == "b"
    assert ring.key_ids == ["b", "a"]
    assert ring.open(old_token, CONTEXT) == "13900000001"
    assert Keyring.key_id_of(ring.seal("13900000001", CONTEXT)) == "b"


def test_encryption_and_index_keys_are_derived_not_the_raw_secret():
    key = Keyring(KEY_A).active
    assert len(key.encryption_key) == len(key.index_key) == 32
    assert key.encryption_key != key.index_key
    assert b"A" * 32 not in (key.encryption_key, key.index_key)


@pytest.mark.parametrize("spec, message", [
    ("", "empty"),
    (None, "empty"),
    (" , ,", "empty"),
    ("nocolon", "id:base64key"),
    (":" + KEY_A.split(":")[1], "id:base64key"),
    ("bad id:" + KEY_A.split(":")[1], "id:base64key"),
    ("a.b:" + KEY_A.split(":")[1], "id:base64key"),        # dots would break the token format
    ("k" * 17 + ":" + KEY_A.split(":")[1], "id:base64key"),
    ("a:" + base64.urlsafe_b64encode(b"A" * 16).decode(), "32 bytes"),
    ("a:" + base64.urlsafe_b64encode(b"A" * 33).decode(), "32 bytes"),
    ("a:", "32 bytes"),
    ("a:Zm9v=x", "base64|32 bytes"),
    (f"{KEY_A},{KEY_A}", "twice"),
    (f"{KEY_A},{KEY_B.replace('b:', 'A:')}", "twice"),  # ids that differ only in case
    (f"{KEY_A},garbage", "id:base64key"),
])
def test_malformed_key_rings_are_refused_with_a_reason(spec, message):
    with pytest.raises(KeyringError, match=message):
        Keyring(spec)


def test_keys_may_be_written_without_base64_padding():
    unpadded = KEY_A.rstrip("=")
    token = Keyring(KEY_A).seal("13900000001", CONTEXT)
    assert Keyring(unpadded).open(token, CONTEXT) == "13900000001"


def test_generated_entries_are_valid_and_distinct():
    entries = {generate_key_entry() for _ in range(20)}
    assert len(entries) == 20
    for entry in entries:
        ring = Keyring(entry)
        assert re.fullmatch(r"k[0-9a-f]{6}", ring.active.key_id)
    assert Keyring(generate_key_entry("2026-q3")).active.key_id == "2026-q3"


@pytest.mark.parametrize("key_id", ["has space", "a.b", "x" * 17, "a:b", "新"])
def test_generated_entries_refuse_bad_key_ids(key_id):
    with pytest.raises(KeyringError):
        generate_key_entry(key_id)


# Blind indexes ---------------------------------------------------------------

def test_blind_index_is_stable_for_the_same_key_value_and_purpose():
    first = Keyring(KEY_A).blind_index("13900000001", "phone")
    assert Keyring(KEY_A).blind_index("13900000001", "phone") == first
    assert re.fullmatch(rf"[0-9a-f]{{{BLIND_INDEX_LENGTH}}}", first)


@pytest.mark.parametrize("a, b", [
    (("13900000001", "phone"), ("13900000002", "phone")),
    (("张", "surname"), ("张", "name")),                 # same value, another purpose
    (("13900000001", "phone"), ("13900000001", "id_number")),
    (("张三", "name"), ("张 三", "name")),                # indexes see exactly what they are given
])
def test_blind_index_differs_per_value_and_purpose(a, b):
    ring = Keyring(KEY_A)
    assert ring.blind_index(*a) != ring.blind_index(*b)


def test_purpose_and_value_cannot_be_shifted_into_each_other():
    ring = Keyring(KEY_A)
    assert ring.blind_index("b", "a") != ring.blind_index("", "ab")
    assert ring.blind_index("b", "a") != ring.blind_index("ab", "")


def test_blind_index_differs_per_key_and_lookups_cover_every_key():
    a, b = Keyring(KEY_A), Keyring(KEY_B)
    assert a.blind_index("13900000001", "phone") != b.blind_index("13900000001", "phone")
    both = Keyring(f"{KEY_B},{KEY_A}")
    assert both.blind_index("13900000001", "phone") == b.blind_index("13900000001", "phone")
    assert both.blind_indexes("13900000001", "phone") == [
        b.blind_index("13900000001", "phone"), a.blind_index("13900000001", "phone"),
    ]


def test_blind_index_does_not_contain_the_value():
    index = Keyring(KEY_A).blind_index("13900000001", "phone")
    assert "13900000001" not in index


def test_keyring_follows_the_settings(settings):
    settings.LINLI_DATA_KEY = KEY_A
    token = keyring().seal("13900000001", CONTEXT)
    assert Keyring.key_id_of(token) == "a"
    settings.LINLI_DATA_KEY = f"{KEY_B},{KEY_A}"
    assert keyring().active.key_id == "b"
    assert keyring().open(token, CONTEXT) == "13900000001"
    settings.LINLI_DATA_KEY = "broken"
    with pytest.raises(KeyringError):
        keyring()
