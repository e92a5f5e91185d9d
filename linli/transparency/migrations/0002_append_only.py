"""Append-only in the database: triggers on SQLite and PostgreSQL (docs/transparency.md).

- UPDATE on leaves, subtree hashes, checkpoints and cosignatures is refused, always.
- DELETE on them is refused unless their log is marked ``erasing`` (or is already gone): the one
  erase path is ``services.erase_log`` (and Django's ``flush``, which this app overrides to take it).
- A log marked ``erasing`` can never be unmarked and takes no new leaves or checkpoints; its origin,
  community never change and its size never shrinks; it can be deleted only once marked.

Both raise an integrity error (SQLite ``RAISE(ABORT)``, PostgreSQL SQLSTATE 23000). PostgreSQL's
TRUNCATE fires no row trigger: it needs the table owner's privilege, which the application's
database role should not hold in production (pytest-django's flush between tests uses it).
"""

from django.db import migrations

CHILD_TABLES = ("transparency_leaf", "transparency_node", "transparency_checkpoint")
REFUSE_UPDATE = "transparency log tables are append-only: UPDATE refused"
REFUSE_DELETE = "transparency log tables are append-only: DELETE refused (erase the whole log instead)"
REFUSE_INSERT = "this transparency log is being erased: nothing more is appended to it"
REFUSE_LOG = "a transparency log keeps its origin and community, never shrinks, and stays erased once erased"
REFUSE_LOG_DELETE = "a transparency log is deleted only through its erase path"

_LOG_OF_COSIGNATURE = "(SELECT c.log_id FROM transparency_checkpoint c WHERE c.id = {row}.checkpoint_id)"


def _sqlite_forward() -> list[str]:
    sql = []
    for table in (*CHILD_TABLES, "transparency_cosignature"):
        log_old = "OLD.log_id" if table != "transparency_cosignature" else _LOG_OF_COSIGNATURE.format(row="OLD")
        log_new = "NEW.log_id" if table != "transparency_cosignature" else _LOG_OF_COSIGNATURE.format(row="NEW")
        sql += [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSE_UPDATE}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM transparency_log l WHERE l.id = {log_old} AND NOT l.erasing) "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSE_DELETE}'); END",
            f"CREATE TRIGGER {table}_no_insert_erasing BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM transparency_log l WHERE l.id = {log_new} AND l.erasing) "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSE_INSERT}'); END",
        ]
    sql += [
        "CREATE TRIGGER transparency_log_keep BEFORE UPDATE ON transparency_log "
        "WHEN (OLD.erasing AND NOT NEW.erasing) OR NEW.origin <> OLD.origin "
        "OR NEW.community_id <> OLD.community_id OR NEW.size < OLD.size "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSE_LOG}'); END",
        "CREATE TRIGGER transparency_log_no_delete BEFORE DELETE ON transparency_log "
        f"WHEN NOT OLD.erasing BEGIN SELECT RAISE(ABORT, '{REFUSE_LOG_DELETE}'); END",
    ]
    return sql


def _sqlite_backward() -> list[str]:
    names = [f"{t}_{s}" for t in (*CHILD_TABLES, "transparency_cosignature")
             for s in ("no_update", "no_delete", "no_insert_erasing")]
    names += ["transparency_log_keep", "transparency_log_no_delete"]
    return [f"DROP TRIGGER IF EXISTS {n}" for n in names]


def _pg_function(name: str, log_old: str, log_new: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '{REFUSE_UPDATE}' USING ERRCODE = '23000';
    ELSIF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM transparency_log l WHERE l.id = {log_old} AND NOT l.erasing) THEN
            RAISE EXCEPTION '{REFUSE_DELETE}' USING ERRCODE = '23000';
        END IF;
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM transparency_log l WHERE l.id = {log_new} AND l.erasing) THEN
        RAISE EXCEPTION '{REFUSE_INSERT}' USING ERRCODE = '23000';
    END IF;
    RETURN NEW;
END $$"""


def _pg_forward() -> list[str]:
    sql = [
        _pg_function("transparency_append_only", "OLD.log_id", "NEW.log_id"),
        _pg_function("transparency_append_only_cosignature", _LOG_OF_COSIGNATURE.format(row="OLD"),
                     _LOG_OF_COSIGNATURE.format(row="NEW")),
        f"""
CREATE OR REPLACE FUNCTION transparency_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT OLD.erasing THEN
            RAISE EXCEPTION '{REFUSE_LOG_DELETE}' USING ERRCODE = '23000';
        END IF;
        RETURN OLD;
    END IF;
    IF (OLD.erasing AND NOT NEW.erasing) OR NEW.origin <> OLD.origin
       OR NEW.community_id <> OLD.community_id OR NEW.size < OLD.size THEN
        RAISE EXCEPTION '{REFUSE_LOG}' USING ERRCODE = '23000';
    END IF;
    RETURN NEW;
END $$""",
    ]
    for table in CHILD_TABLES:
        sql.append(f"CREATE TRIGGER {table}_append_only BEFORE INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION transparency_append_only()")
    sql.append("CREATE TRIGGER transparency_cosignature_append_only BEFORE INSERT OR UPDATE OR DELETE "
               "ON transparency_cosignature FOR EACH ROW EXECUTE FUNCTION transparency_append_only_cosignature()")
    sql.append("CREATE TRIGGER transparency_log_guard BEFORE UPDATE OR DELETE ON transparency_log "
               "FOR EACH ROW EXECUTE FUNCTION transparency_log_guard()")
    return sql


def _pg_backward() -> list[str]:
    sql = [f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}" for t in (*CHILD_TABLES, "transparency_cosignature")]
    sql.append("DROP TRIGGER IF EXISTS transparency_log_guard ON transparency_log")
    sql += [f"DROP FUNCTION IF EXISTS {f}()" for f in (
        "transparency_append_only", "transparency_append_only_cosignature", "transparency_log_guard")]
    return sql


def statements(vendor: str, forward: bool = True) -> list[str]:
    if vendor == "sqlite":
        return _sqlite_forward() if forward else _sqlite_backward()
    if vendor == "postgresql":
        return _pg_forward() if forward else _pg_backward()
    raise RuntimeError(f"the transparency log's triggers are written for SQLite and PostgreSQL, not {vendor}")


def _run(forward: bool):
    def run(apps, schema_editor):
        for sql in statements(schema_editor.connection.vendor, forward):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("transparency", "0001_initial")]

    operations = [migrations.RunPython(_run(True), _run(False))]
