"""The log's tables: one ``Log`` per community, its leaves, the hashes of every complete aligned
subtree, the signed checkpoints, the witnesses and their cosignatures.

``Leaf``, ``Node``, ``Checkpoint`` and ``Cosignature`` are append-only: database triggers (migration
0002, SQLite and PostgreSQL) refuse UPDATE, and refuse DELETE unless the whole log is being erased
through :func:`linli.transparency.services.erase_log` (docs/transparency.md, "Append-only in the
database"). Nothing here has a ``save()`` that edits; services write with ``bulk_create``/``create``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.community.models import Community


class Log(models.Model):
    """One community's log. ``size`` is how many leaves it holds (kept under the row's lock by
    :func:`services.append`); ``erasing`` is set, irreversibly, only by the documented erase path."""

    community = models.OneToOneField(Community, on_delete=models.PROTECT, related_name="transparency_log",
                                     verbose_name=_("community"))
    origin = models.CharField(_("origin"), max_length=200, unique=True)
    size = models.BigIntegerField(_("size"), default=0)
    erasing = models.BooleanField(_("being erased"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("transparency log")
        verbose_name_plural = _("transparency logs")

    def __str__(self):
        return self.origin


class Leaf(models.Model):
    """Entry ``index`` of a log: the exact leaf bytes and their RFC 6962 leaf hash."""

    id = models.BigAutoField(primary_key=True)
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="leaves")
    index = models.BigIntegerField(_("index"))
    data = models.BinaryField(_("data"))
    hash = models.BinaryField(_("hash"), max_length=32)

    class Meta:
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")
        constraints = [models.UniqueConstraint(fields=["log", "index"], name="tlog_leaf_index")]


class Node(models.Model):
    """The hash of the complete aligned subtree of leaves ``[index·2^level, (index+1)·2^level)``,
    ``level ≥ 1`` (level 0 is ``Leaf.hash``). Written once, when the subtree completes."""

    id = models.BigAutoField(primary_key=True)
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="nodes")
    level = models.SmallIntegerField(_("level"))
    index = models.BigIntegerField(_("index"))
    hash = models.BinaryField(_("hash"), max_length=32)

    class Meta:
        verbose_name = _("subtree hash")
        verbose_name_plural = _("subtree hashes")
        constraints = [models.UniqueConstraint(fields=["log", "level", "index"], name="tlog_node_key")]


class Checkpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint): ``note`` is the signed note exactly as signed,
    without cosignatures (those are in :class:`Cosignature`)."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="checkpoints")
    size = models.BigIntegerField(_("size"))
    root = models.BinaryField(_("root hash"), max_length=32)
    note = models.TextField(_("signed note"))
    signed_at = models.DateTimeField(_("signed at"))

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["log_id", "size"]
        constraints = [models.UniqueConstraint(fields=["log", "size"], name="tlog_checkpoint_size")]

    def __str__(self):
        return f"{self.log_id}@{self.size}"


class Witness(models.Model):
    """Someone (the street office) who cosigns this log's checkpoints with a cosignature/v1 key."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="witnesses", verbose_name=_("log"))
    name = models.CharField(_("name"), max_length=200)
    verifier_key = models.TextField(_("verifier key"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        ordering = ["log_id", "name"]
        constraints = [models.UniqueConstraint(fields=["log", "name"], name="tlog_witness_name")]

    def __str__(self):
        return self.name


class Cosignature(models.Model):
    """A witness's cosignature of a stored checkpoint: ``line`` is the signature line exactly as
    appended to the note (``— name base64…`` and a newline); ``timestamp`` the time it carries."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    line = models.TextField(_("signature line"))
    timestamp = models.DateTimeField(_("cosigned at"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness"], name="tlog_cosignature_once")]
