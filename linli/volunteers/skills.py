"""The shared vocabularies of issue 11 (docs/volunteers.md): skills, half-days, activity types.

Codes are stored (in ``Volunteer.skills``, ``Volunteer.availability``, ``Activity.skills``,
``Activity.activity_type``, ``Need.activity_type`` and ``points.EarningRule.activity_type``);
labels are translated on display. Each constant is a tuple of ``(code, label)`` pairs in the
order pages show them; ``*_CODES`` are the bare codes and :func:`label` finds a label.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SKILLS = (
    ("visiting", _("Visiting and chatting")),
    ("escort", _("Accompanying to the clinic")),
    ("cooking", _("Cooking and meals")),
    ("repair", _("Small repairs")),
    ("tutoring", _("Homework help")),
    ("first_aid", _("First aid")),
    ("driving", _("Driving")),
    ("it_help", _("Phones and computers")),
    ("cleaning", _("Cleaning up")),
    ("events", _("Helping at events")),
)

# 14 half-days ("mon_am" … "sun_pm"), then "evenings". A half-day code is f"{day}_{half}" with
# ``day`` one of DAY_CODES (Monday first, as datetime.weekday() counts) and ``half`` "am" or "pm".
AVAILABILITY = (
    ("mon_am", _("Monday morning")),
    ("mon_pm", _("Monday afternoon")),
    ("tue_am", _("Tuesday morning")),
    ("tue_pm", _("Tuesday afternoon")),
    ("wed_am", _("Wednesday morning")),
    ("wed_pm", _("Wednesday afternoon")),
    ("thu_am", _("Thursday morning")),
    ("thu_pm", _("Thursday afternoon")),
    ("fri_am", _("Friday morning")),
    ("fri_pm", _("Friday afternoon")),
    ("sat_am", _("Saturday morning")),
    ("sat_pm", _("Saturday afternoon")),
    ("sun_am", _("Sunday morning")),
    ("sun_pm", _("Sunday afternoon")),
    ("evenings", _("Evenings")),
)
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Shared with points.EarningRule.activity_type.
ACTIVITY_TYPES = (
    ("visit", _("Visiting elders")),
    ("escort", _("Accompanying to the clinic")),
    ("meal_delivery", _("Delivering meals")),
    ("cleanup", _("Cleaning up the neighbourhood")),
    ("patrol", _("Safety patrol")),
    ("tutoring", _("Homework help")),
    ("event", _("Helping at an event")),
    ("other", _("Other help")),
)

SKILL_CODES = tuple(code for code, _label in SKILLS)
AVAILABILITY_CODES = tuple(code for code, _label in AVAILABILITY)
ACTIVITY_TYPE_CODES = tuple(code for code, _label in ACTIVITY_TYPES)

# Which skill suits which kind of activity (used to suggest volunteers and to preselect skills).
SKILLS_FOR_TYPE = {
    "visit": ("visiting",),
    "escort": ("escort", "driving"),
    "meal_delivery": ("cooking", "driving"),
    "cleanup": ("cleaning",),
    "patrol": ("events",),
    "tutoring": ("tutoring",),
    "event": ("events",),
    "other": (),
}


def label(table, code):
    """The translated label of ``code`` in one of the tables above (the code itself if unknown)."""
    for c, text in table:
        if c == code:
            return text
    return code


def half_day(moment):
    """The availability code of an aware datetime, in the current time zone.

    Before 12:00 → "<day>_am"; 12:00–17:59 → "<day>_pm"; from 18:00 → "evenings".
    """
    from django.utils import timezone

    local = timezone.localtime(moment)
    if local.hour >= 18:
        return "evenings"
    return f"{DAY_CODES[local.weekday()]}_{'am' if local.hour < 12 else 'pm'}"


def clean_codes(values, allowed):
    """Known codes of ``values``, once each, in the table's order."""
    wanted = set(values or ())
    return [code for code in allowed if code in wanted]
