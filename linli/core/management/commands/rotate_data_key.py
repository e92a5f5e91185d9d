"""`linli rotate-data-key`: make a new data key, re-encrypt under it, or check.

    linli rotate-data-key --generate [--key-id ID]   print a new key entry and the steps
    linli rotate-data-key [--batch-size N]           re-encrypt everything under the active key
    linli rotate-data-key --check                    count rows not under the active key (exit 1 if any)

Only key *ids* are ever printed from the configured ring, never key material.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _, gettext_lazy

from linli.core.crypto import DecryptionError, Keyring, KeyringError, generate_key_entry

STEPS = gettext_lazy(
    """Steps to rotate the data key without downtime:
  1. Prepend the new entry to LINLI_DATA_KEY, keeping the old key after it:
       LINLI_DATA_KEY=%(entry_id)s:…,<current entries>
     The first entry is the active key: new values are sealed under it, the
     others still open the values written before.
  2. Restart the servers one by one, so that every server knows the new key.
  3. Run `linli rotate-data-key` to re-encrypt every value under the new key
     (it can run while Linli serves). It must end with "remaining: 0";
     `linli rotate-data-key --check` says the same at any time.
  4. Remove the old key from LINLI_DATA_KEY and restart the servers again.
Keep the key secret: whoever has it and a copy of the database can read it all."""
)


class Command(BaseCommand):
    help = gettext_lazy("Generate a new data key, re-encrypt personal data under the active key, or check.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate", action="store_true",
            help=_("Print a new id:key entry for LINLI_DATA_KEY and the steps to roll it out."),
        )
        parser.add_argument("--key-id", help=_("With --generate: the id of the new key."))
        parser.add_argument(
            "--batch-size", type=int, default=None,
            help=_("Rows re-encrypted per transaction (default 500)."),
        )
        parser.add_argument(
            "--check", action="store_true",
            help=_("Only count rows with values not under the active key; exit status 1 if any."),
        )

    def handle(self, *args, generate, key_id, batch_size, check, **options):
        if generate and check:
            raise CommandError(_("--generate and --check cannot be combined."))
        if key_id is not None and not generate:
            raise CommandError(_("--key-id only goes with --generate."))
        if batch_size is not None and (generate or check):
            raise CommandError(_("--batch-size only goes with a rotation (no --generate, no --check)."))
        if batch_size is not None and batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        if generate:
            return self._generate(key_id)
        ring = self._ring()
        if check:
            return self._check(ring)
        return self._rotate(ring, batch_size or 500)

    def _ring(self) -> Keyring:
        try:
            return Keyring(settings.LINLI_DATA_KEY)
        except KeyringError as exc:
            raise CommandError(
                _("LINLI_DATA_KEY is malformed: %(error)s. It is a comma-separated list of id:key "
                  "entries, the active key first; `linli rotate-data-key --generate` prints one.")
                % {"error": exc}
            )

    def _generate(self, key_id):
        try:
            entry = generate_key_entry(key_id)
        except KeyringError as exc:
            raise CommandError(_("Invalid --key-id: %(error)s.") % {"error": exc})
        new_id = entry.partition(":")[0]
        try:
            current = Keyring(settings.LINLI_DATA_KEY).key_ids
        except KeyringError:
            current = []  # a new key is what a broken ring needs; say nothing more
        if new_id.lower() in {k.lower() for k in current}:  # the ring refuses ids differing in case only
            raise CommandError(
                _("LINLI_DATA_KEY already has a key with id %(id)s; choose another --key-id.") % {"id": new_id}
            )
        # The entry alone on stdout (scripts can capture it); the steps on stderr.
        self.stdout.write(entry)
        self.stderr.write(str(STEPS) % {"entry_id": new_id})

    def _check(self, ring: Keyring):
        from linli.core.rotation import count_not_under_active_key

        remaining = count_not_under_active_key()
        self.stdout.write(
            _("active key: %(active)s (ring: %(ids)s)") % {"active": ring.active.key_id, "ids": ", ".join(ring.key_ids)}
        )
        # Fixed, untranslated wording: scripts read these lines.
        self.stdout.write(f"rows with values not under the active key: {remaining}")
        if remaining:
            raise SystemExit(1)

    def _rotate(self, ring: Keyring, batch_size: int):
        from linli.core.rotation import rotate

        self.stdout.write(
            _("Re-encrypting under the active key %(active)s (ring: %(ids)s), %(n)d rows per batch.")
            % {"active": ring.active.key_id, "ids": ", ".join(ring.key_ids), "n": batch_size}
        )

        def progress(label: str, done: int) -> None:
            self.stdout.write(_("  %(model)s: %(n)d re-encrypted so far") % {"model": label, "n": done})
            self.stdout.flush()

        try:
            report = rotate(batch_size=batch_size, progress=progress)
        except DecryptionError as exc:
            raise CommandError(
                _("A stored value does not open with LINLI_DATA_KEY (%(error)s). Was a key removed "
                  "from the ring before the rotation finished? Put it back and run again.")
                % {"error": exc}
            )
        for label, n in report.rewritten.items():
            self.stdout.write(f"{label}: {n} re-encrypted")
        if report.skipped_concurrent:
            self.stdout.write(
                _("changed by someone else meanwhile, left for the next run: %(n)d") % {"n": report.skipped_concurrent}
            )
        self.stdout.write(f"remaining: {report.remaining}")
        if report.remaining:
            self.stderr.write(_(
                "Some values are still under an old key (edited during the rotation, or written by a "
                "server that does not have the new key yet). Make sure every server has been "
                "restarted with the new LINLI_DATA_KEY, then run `linli rotate-data-key` again. "
                "Do not remove the old key before it says \"remaining: 0\"."
            ))
            raise SystemExit(1)
