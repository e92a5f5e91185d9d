"""The ledger's rules, kept by the database itself, on SQLite and PostgreSQL (docs/points.md).

- A posting is never updated; never deleted.
- A transaction is never deleted; the only change it takes is ``posted`` false → true, once,
  with every other column unchanged. It is inserted unposted.
- A posting may be added only while its transaction is unposted.
- Setting ``posted`` is refused unless the transaction has at least two postings and they sum
  to zero; then each account's cached ``balance`` moves by its postings (the trigger: nothing
  else in the code writes a balance). The account's CHECK ``points_account_not_negative``
  refuses a balance below zero (but issuance's), so the UPDATE that posts fails as a whole.
- On PostgreSQL also a DEFERRABLE INITIALLY DEFERRED constraint trigger refuses, at commit, a
  transaction whose postings do not sum to zero (posted or not).

Refusals raise an integrity error (SQLite ``RAISE(ABORT)``, PostgreSQL SQLSTATE 23000; the CHECK
23514). On PostgreSQL the balance trigger runs once per statement (transition tables): it locks the
accounts' rows in id order, then moves each once by the sum of its postings in the transactions
the statement posted. Two postings against one balance queue on that lock, and the second sees
the first's result when its CHECK runs.

Emptying the database (Django's ``flush``, which pytest-django runs between transactional tests)
deletes rows: the DELETE rules give way while the one-row table ``points_ledger_erasing`` — not a
model, so flush never empties it — holds a row. Only ``linli.points.ledger.erasing_for_flush``
writes it, through the ``transparency.flush`` hook of the flush command. PostgreSQL's TRUNCATE
fires no row trigger; the application's role should not own the tables in production.
"""

from django.db import migrations

MARKER = "points_ledger_erasing"
REFUSE_POSTING_UPDATE = "points postings are never changed: UPDATE refused (reverse the transaction)"
REFUSE_POSTING_DELETE = "points postings are never deleted: DELETE refused (reverse the transaction)"
REFUSE_POSTING_INSERT = "this points transaction is posted: no posting may be added to it"
REFUSE_TXN_DELETE = "points transactions are never deleted: DELETE refused (reverse it)"
REFUSE_TXN_UPDATE = "a points transaction only changes from unposted to posted: UPDATE refused"
REFUSE_TXN_INSERT = "a points transaction is inserted unposted"
REFUSE_UNBALANCED = "a points transaction posts only with at least two postings that sum to zero"
REFUSE_UNBALANCED_COMMIT = "the postings of a points transaction do not sum to zero: COMMIT refused"

# Every column of points_transaction but ``posted``: none may change.
_TXN_COLUMNS = ("id", "community_id", "kind", "memo", "reverses_id", "source_type", "source_id", "actor_id",
                "created_at", "effective_at")

SQLITE_TRIGGERS = ("points_posting_no_update", "points_posting_no_delete", "points_posting_only_unposted",
                   "points_transaction_insert_unposted", "points_transaction_no_delete",
                   "points_transaction_only_posts", "points_transaction_balanced", "points_transaction_apply")


def _sqlite_forward() -> list[str]:
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _TXN_COLUMNS)
    erasing = f"NOT EXISTS (SELECT 1 FROM {MARKER})"
    return [
        f"CREATE TABLE IF NOT EXISTS {MARKER} (flag integer NOT NULL)",
        "CREATE TRIGGER points_posting_no_update BEFORE UPDATE ON points_posting "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSE_POSTING_UPDATE}'); END",
        f"CREATE TRIGGER points_posting_no_delete BEFORE DELETE ON points_posting WHEN {erasing} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSE_POSTING_DELETE}'); END",
        "CREATE TRIGGER points_posting_only_unposted BEFORE INSERT ON points_posting "
        "WHEN EXISTS (SELECT 1 FROM points_transaction t WHERE t.id = NEW.transaction_id AND t.posted) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSE_POSTING_INSERT}'); END",
        "CREATE TRIGGER points_transaction_insert_unposted BEFORE INSERT ON points_transaction "
        f"WHEN NEW.posted BEGIN SELECT RAISE(ABORT, '{REFUSE_TXN_INSERT}'); END",
        f"CREATE TRIGGER points_transaction_no_delete BEFORE DELETE ON points_transaction WHEN {erasing} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSE_TXN_DELETE}'); END",
        "CREATE TRIGGER points_transaction_only_posts BEFORE UPDATE ON points_transaction "
        f"WHEN NOT (OLD.posted = 0 AND NEW.posted = 1 AND {unchanged}) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSE_TXN_UPDATE}'); END",
        "CREATE TRIGGER points_transaction_balanced BEFORE UPDATE OF posted ON points_transaction "
        "WHEN OLD.posted = 0 AND NEW.posted = 1 AND ("
        "(SELECT COUNT(*) FROM points_posting p WHERE p.transaction_id = NEW.id) < 2 "
        "OR (SELECT SUM(p.amount) FROM points_posting p WHERE p.transaction_id = NEW.id) <> 0) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSE_UNBALANCED}'); END",
        "CREATE TRIGGER points_transaction_apply AFTER UPDATE OF posted ON points_transaction "
        "WHEN OLD.posted = 0 AND NEW.posted = 1 BEGIN "
        "UPDATE points_account SET balance = balance + (SELECT SUM(p.amount) FROM points_posting p "
        "WHERE p.transaction_id = NEW.id AND p.account_id = points_account.id) "
        "WHERE id IN (SELECT p.account_id FROM points_posting p WHERE p.transaction_id = NEW.id); END",
    ]


def _sqlite_backward() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS] + [f"DROP TABLE IF EXISTS {MARKER}"]


def _pg_forward() -> list[str]:
    unchanged = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _TXN_COLUMNS)
    return [
        f"CREATE TABLE IF NOT EXISTS {MARKER} (flag integer NOT NULL)",
        f"""
CREATE OR REPLACE FUNCTION points_posting_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '{REFUSE_POSTING_UPDATE}' USING ERRCODE = '23000';
    ELSIF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM {MARKER}) THEN
            RAISE EXCEPTION '{REFUSE_POSTING_DELETE}' USING ERRCODE = '23000';
        END IF;
        RETURN OLD;
    END IF;
    -- FOR SHARE waits for a concurrent posting of the transaction, then sees it posted.
    PERFORM 1 FROM points_transaction t WHERE t.id = NEW.transaction_id AND t.posted FOR SHARE;
    IF FOUND THEN
        RAISE EXCEPTION '{REFUSE_POSTING_INSERT}' USING ERRCODE = '23000';
    END IF;
    RETURN NEW;
END $$""",
        f"""
CREATE OR REPLACE FUNCTION points_transaction_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    total numeric;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM {MARKER}) THEN
            RAISE EXCEPTION '{REFUSE_TXN_DELETE}' USING ERRCODE = '23000';
        END IF;
        RETURN OLD;
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.posted THEN
            RAISE EXCEPTION '{REFUSE_TXN_INSERT}' USING ERRCODE = '23000';
        END IF;
        RETURN NEW;
    END IF;
    IF NOT (NOT OLD.posted AND NEW.posted AND {unchanged}) THEN
        RAISE EXCEPTION '{REFUSE_TXN_UPDATE}' USING ERRCODE = '23000';
    END IF;
    SELECT COUNT(*), COALESCE(SUM(p.amount), 0) INTO n, total FROM points_posting p WHERE p.transaction_id = NEW.id;
    IF n < 2 OR total <> 0 THEN
        RAISE EXCEPTION '{REFUSE_UNBALANCED}' USING ERRCODE = '23000';
    END IF;
    RETURN NEW;
END $$""",
        """
CREATE OR REPLACE FUNCTION points_transaction_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Once per statement (an UPDATE that posts 900 transactions moves each account once): lock
    -- the accounts in id order (no deadlock between two transfers in opposite directions), then
    -- move each balance by its postings; the CHECK sees the latest committed balance.
    PERFORM 1 FROM points_account a
        WHERE a.id IN (SELECT p.account_id FROM points_posting p
                       JOIN newrows n ON n.id = p.transaction_id JOIN oldrows o ON o.id = n.id
                       WHERE n.posted AND NOT o.posted)
        ORDER BY a.id FOR NO KEY UPDATE;
    UPDATE points_account a SET balance = a.balance + s.total
        FROM (SELECT p.account_id, SUM(p.amount) AS total FROM points_posting p
              JOIN newrows n ON n.id = p.transaction_id JOIN oldrows o ON o.id = n.id
              WHERE n.posted AND NOT o.posted GROUP BY p.account_id) s
        WHERE a.id = s.account_id;
    RETURN NULL;
END $$""",
        f"""
CREATE OR REPLACE FUNCTION points_transaction_balanced_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COALESCE(SUM(p.amount), 0) FROM points_posting p WHERE p.transaction_id = NEW.transaction_id) <> 0 THEN
        RAISE EXCEPTION '{REFUSE_UNBALANCED_COMMIT}' USING ERRCODE = '23000';
    END IF;
    RETURN NULL;
END $$""",
        "CREATE TRIGGER points_posting_guard BEFORE INSERT OR UPDATE OR DELETE ON points_posting "
        "FOR EACH ROW EXECUTE FUNCTION points_posting_guard()",
        "CREATE TRIGGER points_transaction_guard BEFORE INSERT OR UPDATE OR DELETE ON points_transaction "
        "FOR EACH ROW EXECUTE FUNCTION points_transaction_guard()",
        # A statement-level trigger (transition tables allow no column list: the guard above lets
        # no UPDATE through but posting). Per row, a bulk posting would update the issuance account
        # once per grant in one transaction: PostgreSQL walks the row's growing chain of versions
        # each time, quadratic in the rows.
        "CREATE TRIGGER points_transaction_apply AFTER UPDATE ON points_transaction "
        "REFERENCING OLD TABLE AS oldrows NEW TABLE AS newrows "
        "FOR EACH STATEMENT EXECUTE FUNCTION points_transaction_apply()",
        "CREATE CONSTRAINT TRIGGER points_posting_balanced AFTER INSERT ON points_posting "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points_transaction_balanced_at_commit()",
    ]


def _pg_backward() -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS points_posting_balanced ON points_posting",
        "DROP TRIGGER IF EXISTS points_transaction_apply ON points_transaction",
        "DROP TRIGGER IF EXISTS points_transaction_guard ON points_transaction",
        "DROP TRIGGER IF EXISTS points_posting_guard ON points_posting",
        "DROP FUNCTION IF EXISTS points_transaction_balanced_at_commit()",
        "DROP FUNCTION IF EXISTS points_transaction_apply()",
        "DROP FUNCTION IF EXISTS points_transaction_guard()",
        "DROP FUNCTION IF EXISTS points_posting_guard()",
        f"DROP TABLE IF EXISTS {MARKER}",
    ]


def statements(vendor: str, forward: bool = True) -> list[str]:
    if vendor == "sqlite":
        return _sqlite_forward() if forward else _sqlite_backward()
    if vendor == "postgresql":
        return _pg_forward() if forward else _pg_backward()
    raise RuntimeError(f"the points ledger's rules are written for SQLite and PostgreSQL, not {vendor}")


def _run(forward: bool):
    def run(apps, schema_editor):
        for sql in statements(schema_editor.connection.vendor, forward):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(_run(True), _run(False))]
