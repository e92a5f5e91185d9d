"""Case events say what happened, in the past tense: ``case.accept`` becomes ``case.accepted``.

The moves' verbs are declared in linli.cases.workflow.CASE; the deadline job's reminder and
overdue flag become ``case.reminded`` and ``case.marked_overdue``. ``case.submitted``,
``case.noted`` and ``case.escalated`` were already past. One UPDATE per verb (the verb
column is indexed), in both directions. linli.notify renames its copies (notifications'
verbs, webhooks' subscriptions) with the same table.
"""

from django.db import migrations

RENAMED = {
    "case.accept": "case.accepted",
    "case.reject": "case.rejected",
    "case.dispatch": "case.dispatched",
    "case.transfer": "case.transferred",
    "case.return": "case.returned",
    "case.start": "case.started",
    "case.contact": "case.contacted",
    "case.resolve": "case.resolved",
    "case.rate": "case.rated",
    "case.visit_back": "case.visited_back",
    "case.close_unrated": "case.closed_unrated",
    "case.merge": "case.merged",
    "case.reminder": "case.reminded",
    "case.overdue": "case.marked_overdue",
}


def _rename(mapping):
    def run(apps, schema_editor):
        Event = apps.get_model("core", "Event")
        events = Event.objects.using(schema_editor.connection.alias)
        for old, new in mapping.items():
            events.filter(verb=old).update(verb=new)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0004_case_rollup"),
        ("core", "0002_event_places_by_id"),
    ]

    operations = [
        migrations.RunPython(_rename(RENAMED), _rename({new: old for old, new in RENAMED.items()}),
                             elidable=True),
    ]
