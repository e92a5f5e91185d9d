"""A model field whose values are encrypted at rest and masked by default.

Reading a ``ProtectedField`` gives a :class:`Protected` value. Its ``str()``
and ``repr()`` are the *masked* form, so templates, logs, error pages and
debuggers show 138****1234 unless code explicitly calls ``reveal()``, which
only services that check permission and write an audit event do.
"""

from __future__ import annotations

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from .crypto import DecryptionError, keyring
from .masking import MASKS


class Protected:
    __slots__ = ("token", "kind", "context", "_plain")

    def __init__(self, *, token: str | None = None, plain: str | None = None, kind: str, context: str):
        self.token = token
        self.kind = kind
        self.context = context
        self._plain = plain

    def reveal(self) -> str:
        if self._plain is None:
            self._plain = keyring().open(self.token, self.context)
        return self._plain

    @property
    def masked(self) -> str:
        return MASKS[self.kind](self.reveal())

    @property
    def key_id(self) -> str | None:
        return keyring().key_id_of(self.token) if self.token else None

    def sealed(self) -> str:
        if self.token is None:
            self.token = keyring().seal(self._plain, self.context)
        return self.token

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"<Protected {self.kind} {self.masked}>"

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __eq__(self, other) -> bool:
        if isinstance(other, Protected):
            return self.reveal() == other.reveal()
        return NotImplemented

    __hash__ = None

    def __reduce__(self):
        # Pickled (cached, sent to a worker) only in sealed form.
        return (_unpickle_protected, (self.sealed(), self.kind, self.context))


def _unpickle_protected(token, kind, context):
    return Protected(token=token, kind=kind, context=context)


class _ProtectedAttribute(DeferredAttribute):
    """Wraps plain strings on assignment, so even an unsaved instance masks."""

    def __set__(self, instance, value):
        if isinstance(value, str):
            value = self.field.wrap(value) if value else None
        elif isinstance(value, Protected) and value.context != self.field.context:
            value = self.field.wrap(value.reveal())  # from another column: re-seal here
        instance.__dict__[self.field.attname] = value


class ProtectedField(models.TextField):
    """Encrypted text. ``kind`` picks the mask: name, phone, id_number, address, date, text."""

    descriptor_class = _ProtectedAttribute

    def __init__(self, *args, kind: str = "text", **kwargs):
        if kind not in MASKS:
            raise ValueError(f"unknown protected kind {kind!r}")
        self.kind = kind
        kwargs.setdefault("blank", True)
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.context = f"{cls._meta.label}.{name}"

    def wrap(self, plain: str) -> Protected:
        return Protected(plain=plain, kind=self.kind, context=self.context)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return None
        return Protected(token=value, kind=self.kind, context=self.context)

    def to_python(self, value):
        if value is None or isinstance(value, Protected):
            return value
        if value == "":
            return None
        value = str(value)
        if value.startswith("v1."):
            # A sealed value, as dumpdata writes it (loaddata): keep it sealed
            # rather than sealing the ciphertext again, if it opens here.
            try:
                keyring().open(value, self.context)
            except DecryptionError:
                pass
            else:
                return Protected(token=value, kind=self.kind, context=self.context)
        return self.wrap(value)

    def get_prep_value(self, value):
        if value is None or value == "":
            return None
        if not isinstance(value, Protected):
            value = self.wrap(str(value))
        elif value.context != self.context:
            # Sealed for another column (its context would not open here).
            value = self.wrap(value.reveal())
        return value.sealed()

    def value_to_string(self, obj):
        # Serialisation (dumpdata) writes sealed values, never plaintext.
        value = self.value_from_object(obj)
        return None if value is None else self.get_prep_value(value)

    def get_lookup(self, lookup_name):
        # Ciphertexts are randomised: comparing them is meaningless, and a
        # LIKE on them could tempt someone. Only null checks are allowed.
        if lookup_name not in {"isnull"}:
            return None
        return super().get_lookup(lookup_name)
