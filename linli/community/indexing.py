"""Registers how Resident blind indexes are recomputed during key rotation."""

from linli.core.rotation import register_blind_indexer
from linli.core.validators import normalize_phone


def _resident_indexes(plain: dict) -> dict:
    from .services import resident_blind_indexes

    return resident_blind_indexes(
        name=plain["name"] or "", id_number=plain["id_number"] or "",
        phone=normalize_phone(plain["phone"] or ""),
    )


register_blind_indexer("community.Resident", _resident_indexes)
