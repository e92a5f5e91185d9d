"""The transparency log: one append-only RFC 6962 Merkle log per community, its signed
checkpoints, witnesses' cosignatures and the HTTP interface a checker reads
(docs/transparency.md)."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

EVENTS = {
    "transparency.appended": _("appended entries to the transparency log"),
    "transparency.checkpoint_signed": _("signed a checkpoint of the transparency log"),
    "transparency.erased": _("erased a whole transparency log"),
}


class TransparencyConfig(AppConfig):
    name = "linli.transparency"
    label = "transparency"
    verbose_name = _("Transparency log")

    def ready(self):
        from importlib import import_module

        from linli.core import registry

        import_module(f"{self.name}.cosign")  # registers the witness's event verbs

        registry.register_urls("transparency", "disclosure/", "linli.transparency.urls")
        for verb, label in EVENTS.items():
            registry.register_event(verb, label)
