"""Encryption at rest and blind indexes for personal data.

The key ring comes from ``LINLI_DATA_KEY``: one or more ``id:key`` entries
separated by commas, each key 32 random bytes in URL-safe base64. The first
entry is the *active* key: every new value is encrypted under it. The others
only decrypt values written before a rotation, so an operator can prepend a
new key, restart the servers one by one, run ``linli rotate-data-key`` to
re-encrypt everything, and finally drop the old key, without downtime.

A sealed value is the text ``v1.<key id>.<base64(nonce || ciphertext)>``
(AES-256-GCM, 96-bit random nonce). The associated data names the column
(``community.Resident.phone``), so a value copied into another column does
not decrypt.

Exact look-up by phone or ID-card number goes through a blind index: an HMAC
of the normalised value under a key derived from the data key. Because each
key of the ring derives its own index key, look-ups compute the index under
every key and match any of them, which keeps them correct mid-rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
BLIND_INDEX_LENGTH = 32  # hex characters: 128 bits of the HMAC


class KeyringError(ValueError):
    """The configured key ring is malformed."""


class DecryptionError(ValueError):
    """A sealed value could not be opened: unknown key id or tampered data."""


@dataclass(frozen=True)
class DataKey:
    key_id: str
    encryption_key: bytes
    index_key: bytes


def _derive(secret: bytes, label: bytes) -> bytes:
    return hmac.new(secret, b"linli/" + label, hashlib.sha256).digest()


def generate_key_entry(key_id: str | None = None) -> str:
    """A fresh ``id:key`` entry for LINLI_DATA_KEY."""
    key_id = key_id or "k" + os.urandom(3).hex()
    if not _KEY_ID.match(key_id):
        raise KeyringError("key ids use letters, digits, '-' and '_' (at most 16)")
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}"


class Keyring:
    def __init__(self, spec: str):
        entries = [e.strip() for e in (spec or "").split(",") if e.strip()]
        if not entries:
            raise KeyringError("LINLI_DATA_KEY is empty")
        keys: dict[str, DataKey] = {}
        order: list[str] = []
        for entry in entries:
            key_id, sep, material = entry.partition(":")
            if not sep or not _KEY_ID.match(key_id):
                raise KeyringError("each LINLI_DATA_KEY entry must look like id:base64key")
            try:
                secret = base64.urlsafe_b64decode(material + "=" * (-len(material) % 4))
            except (binascii.Error, ValueError) as exc:
                raise KeyringError(f"key {key_id!r} is not valid base64") from exc
            if len(secret) != 32:
                raise KeyringError(f"key {key_id!r} must be 32 bytes, not {len(secret)}")
            # Case-insensitively: SQLite's LIKE (rotation's count) ignores ASCII case.
            if key_id.lower() in {k.lower() for k in keys}:
                raise KeyringError(f"key id {key_id!r} appears twice")
            keys[key_id] = DataKey(key_id, _derive(secret, b"enc"), _derive(secret, b"blind-index"))
            order.append(key_id)
        self._keys = keys
        self._order = order

    @property
    def active(self) -> DataKey:
        return self._keys[self._order[0]]

    @property
    def key_ids(self) -> list[str]:
        return list(self._order)

    def seal(self, plaintext: str, context: str) -> str:
        key = self.active
        nonce = os.urandom(12)
        ct = AESGCM(key.encryption_key).encrypt(nonce, plaintext.encode("utf-8"), context.encode())
        return f"v1.{key.key_id}.{base64.urlsafe_b64encode(nonce + ct).decode().rstrip('=')}"

    def open(self, token: str, context: str) -> str:
        try:
            version, key_id, payload = token.split(".", 2)
        except ValueError as exc:
            raise DecryptionError("not a sealed value") from exc
        if version != "v1":
            raise DecryptionError(f"unknown sealed-value version {version!r}")
        key = self._keys.get(key_id)
        if key is None:
            raise DecryptionError(f"key {key_id!r} is not in LINLI_DATA_KEY")
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            plain = AESGCM(key.encryption_key).decrypt(raw[:12], raw[12:], context.encode())
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise DecryptionError("sealed value failed authentication") from exc
        return plain.decode("utf-8")

    @staticmethod
    def key_id_of(token: str) -> str:
        return token.split(".", 2)[1]

    def blind_index(self, value: str, purpose: str) -> str:
        """The index under the active key (what is stored)."""
        return self._blind(self.active, value, purpose)

    def blind_indexes(self, value: str, purpose: str) -> list[str]:
        """The index under every key of the ring (what look-ups match)."""
        return [self._blind(self._keys[k], value, purpose) for k in self._order]

    @staticmethod
    def _blind(key: DataKey, value: str, purpose: str) -> str:
        msg = purpose.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(key.index_key, msg, hashlib.sha256).hexdigest()[:BLIND_INDEX_LENGTH]


@lru_cache(maxsize=4)
def _keyring_for(spec: str) -> Keyring:
    return Keyring(spec)


def keyring() -> Keyring:
    """The key ring of the current settings (cached per LINLI_DATA_KEY value)."""
    from django.conf import settings

    return _keyring_for(settings.LINLI_DATA_KEY)
