from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _console(user) -> bool:
    return user.has_perm("community.use_console")


class InsightConfig(AppConfig):
    name = "linli.insight"
    label = "insight"
    verbose_name = _("Understanding requests")

    def ready(self):
        from linli.core import registry

        # Importing these declares linli.insight.workflows too, which registers its moves' labels.
        from linli.community.views import TODAY_WORK

        from . import hotissues, intake, notifications, today, views

        # The learned classifier: retrain on human-labelled categories only; promoted only when not worse.
        registry.register_job(registry.Job("insight.retrain", 86400, "linli.insight.jobs.retrain_all"))
        # Hot issues: regroup recent cases hourly; put new cases into open hot issues every minute.
        registry.register_job(registry.Job("insight.hotissues_refresh", 3600, "linli.insight.hotissues.refresh_all"))
        registry.register_job(registry.Job("insight.hotissues_attach", 60, "linli.insight.hotissues.attach_all"))
        # Early warning: unusual rises per courtyard and category (yesterday and today so far).
        registry.register_job(registry.Job("insight.warnings", 3600, "linli.insight.early_warning.scan_all"))

        registry.register_recipe(notifications.ALERTS)

        # Intake asks the community's learned model before the keyword rules, which stay the fallback.
        registry.register_hook("cases.category_suggesters", "insight", intake.learned_suggestion)
        # A staff case page shows the open cases that read alike and the case's hot issue.
        registry.register_hook("cases.staff_case_panels", "insight", hotissues.similar_panel)
        # The resolve form carries the reply assistant's check.
        registry.register_hook("cases.move_form_extras", "insight", views.reply_check_extra)
        # The staff's first page counts the new alerts and open hot issues of the account's area.
        registry.register_hook(TODAY_WORK, "insight", today.today_work)
        registry.register_urls("insight", "insight/", "linli.insight.urls")

        registry.register_menu_entry(registry.MenuEntry(
            "hot_issues", _("Hot issues"), "insight:hot_issues", order=30, visible=_console,
            current=("insight:hot_issues", "insight:hot_issue")))
        registry.register_menu_entry(registry.MenuEntry(
            "alerts", _("Alerts"), "insight:alerts", order=35, visible=_console,
            current=("insight:alerts", "insight:alert")))

        # Events that create rows (the moves' labels come with linli.insight.workflows). Partners'
        # webhooks may subscribe to new alerts: their data is counts and names of categories.
        registry.register_event("alert.raised", _("raised an alert"), webhook=True)
        registry.register_event("hotissue.formed", _("formed a hot issue"))
        registry.register_event("hotissue.grew", _("added cases to a hot issue"))
        registry.register_event("classifier.trained", _("trained a classifier version"))
        # Why a version was promoted (linli.insight.services._activate): pages show these words.
        registry.register_event_reasons("classifier.promoted", {
            "first": _("the first version of its scope"),
            "manual": _("promoted by hand when it was stored"),
            "no_validation_cases": _("no confirmed cases to compare on yet"),
            "not_worse": _("not worse than the active version on the confirmed cases"),
        })
