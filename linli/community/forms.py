"""Forms for the console pages: they parse and validate what a user typed, nothing more."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.crypto import DecryptionError, keyring
from linli.core.masking import MASKS
from linli.core.validators import normalize_id_number, normalize_name, normalize_phone, surname_of

from . import selectors
from .models import Resident

_PHONE = re.compile(r"^1\d{10}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
# Only digits and the separators people type in numbers: meant as a number, not a name.
_NUMBER_LIKE = re.compile(r"^(?=.*\d)[+\d\s\-()xX]+$")

QUERY_HELP = _(
    "A full mobile number (11 digits), a full ID card number (18 characters), "
    "a full name or a surname. Parts of a number or a name are not searched."
)


def _search_context(user) -> str:
    # Bound to the account: a search link copied to someone else does not open.
    return f"linli.resident_search:{user.pk}"


class ResidentSearchForm(forms.Form):
    """Search within the account's scope.

    The query may be a phone or ID number, so it never travels in a URL: the
    form is posted, and the results page links carry the query sealed
    (encrypted under the data key, bound to the account) in ``q``. Filters
    carry no personal data and stay readable in the URL.
    """

    query = forms.CharField(
        label=_("Phone, ID card number or name"), required=False, max_length=40,
        help_text=QUERY_HELP,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )
    grid = forms.ModelChoiceField(
        label=_("Grid"), queryset=None, required=False, empty_label=_("All grids"),
    )
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=None, required=False, empty_label=_("All buildings"),
    )
    age_min = forms.IntegerField(
        label=_("Age from"), required=False, min_value=0, max_value=150,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    age_max = forms.IntegerField(
        label=_("Age to"), required=False, min_value=0, max_value=150,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    tag = forms.ModelChoiceField(
        label=_("Tag"), queryset=None, required=False, empty_label=_("Any tag"),
    )

    FILTERS = ("grid", "building", "age_min", "age_max", "tag")

    def __init__(self, user, *args, **kwargs):
        kwargs.setdefault("auto_id", "search_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["grid"].queryset = selectors.grids_for(user).order_by("community_id", "code")
        self.fields["building"].queryset = selectors.buildings_for(user)
        self.fields["tag"].queryset = selectors.tags_for(user)
        self._bad_link = False
        self.query_kind = ""  # phone, id_number, name or surname, once cleaned

    @classmethod
    def from_url(cls, user, params) -> "ResidentSearchForm":
        """The form as the results page's URL describes it (the query unsealed)."""
        data = {name: params.get(name, "") for name in cls.FILTERS}
        data["query"], bad_link = "", False
        token = params.get("q", "")
        if token:
            try:
                data["query"] = keyring().open(token, _search_context(user))
            except DecryptionError:
                bad_link = True
        form = cls(user, data)
        form._bad_link = bad_link
        return form

    def clean_query(self):
        query = " ".join(self.cleaned_data["query"].split())
        if _ID_NUMBER.match(normalize_id_number(query)):
            query, self.query_kind = normalize_id_number(query), "id_number"
        elif _PHONE.match(normalize_phone(query)):
            query, self.query_kind = normalize_phone(query), "phone"
        elif _NUMBER_LIKE.match(query):
            raise forms.ValidationError(
                _("Search by a full mobile number (11 digits) or a full ID card number (18 characters)."),
                code="partial_number",
            )
        elif query:
            self.query_kind = "surname" if surname_of(query) == normalize_name(query) else "name"
        return query

    def _conceal_query(self):
        """Never echo a searched number or full name back in plain: the input is emptied
        and the page says what was searched, masked. A surname alone stays."""
        if self.query_kind in ("phone", "id_number", "name"):
            data = self.data.copy()
            data["query"] = ""
            self.data = data

    @property
    def query_display(self) -> str:
        if not self.query_kind or not self.is_valid():
            return ""
        query = self.cleaned_data["query"]
        return query if self.query_kind == "surname" else MASKS[self.query_kind](query)

    def clean(self):
        cleaned = super().clean()
        if self._bad_link:
            self.add_error(None, forms.ValidationError(
                _("This search link is not valid for your account. Please search again."),
                code="bad_link",
            ))
        age_min, age_max = cleaned.get("age_min"), cleaned.get("age_max")
        if age_min is not None and age_max is not None and age_min > age_max:
            self.add_error("age_max", forms.ValidationError(
                _("The upper age is below the lower age."), code="age_range",
            ))
        grid, building = cleaned.get("grid"), cleaned.get("building")
        if grid and building and building.grid_id != grid.pk:
            self.add_error("building", forms.ValidationError(
                _("This building is not in the chosen grid."), code="building_grid",
            ))
        self._conceal_query()
        return cleaned

    def criteria(self) -> dict:
        """Keyword arguments for selectors.resident_search."""
        c = self.cleaned_data
        return {
            "query": c["query"],
            "grid_id": c["grid"].pk if c["grid"] else None,
            "building_id": c["building"].pk if c["building"] else None,
            "age_min": c["age_min"],
            "age_max": c["age_max"],
            "tag_id": c["tag"].pk if c["tag"] else None,
        }

    def url_params(self) -> str:
        """The URL query string for this (valid) search, without the page."""
        c = self.cleaned_data
        params = {}
        if c["query"]:
            params["q"] = keyring().seal(c["query"], _search_context(self.user))
        for name in self.FILTERS:
            value = c.get(name)
            if value is None or value == "":
                continue
            params[name] = value.pk if hasattr(value, "pk") else value
        return urlencode(params)

    @property
    def has_criteria(self) -> bool:
        return self.is_valid() and any(v not in (None, "") for v in self.cleaned_data.values())


def protected_field_choices():
    return [(name, Resident._meta.get_field(name).verbose_name) for name in Resident.PROTECTED_FIELDS]


class RevealForm(forms.Form):
    """One protected value to show in plain, and why."""

    field = forms.ChoiceField(choices=protected_field_choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"), max_length=200,
        error_messages={"required": _("Say why you need to see this value.")},
        widget=forms.TextInput(attrs={
            "autocomplete": "off",
            "placeholder": _("e.g. calling about the home visit"),
        }),
    )

    def __init__(self, *args, field_name: str = "", **kwargs):
        kwargs.setdefault("auto_id", f"reveal_{field_name or 'x'}_%s")
        kwargs.setdefault("label_suffix", "")
        initial = kwargs.pop("initial", {}) or {}
        if field_name:
            initial["field"] = field_name
        super().__init__(*args, initial=initial, **kwargs)

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < 2:  # the service's rule, said before it is asked
            raise forms.ValidationError(self.fields["reason"].error_messages["required"], code="required")
        return reason


def event_target_choices():
    models = sorted(
        # Records that have a name of their own (a translated verbose_name); bookkeeping rows
        # (counters, cursors, idempotency keys) are no event's target and would list in English.
        (m for m in apps.get_models() if m.__module__.startswith("linli.") and "verbose_name" in m._meta.original_attrs),
        key=lambda m: str(m._meta.verbose_name),
    )
    return [("", _("Any kind"))] + [(m._meta.label_lower, m._meta.verbose_name) for m in models]


class EventFilterForm(forms.Form):
    verb = forms.CharField(
        label=_("Action"), required=False, max_length=64,
        # No code as an example (tests/test_words.py): the list shows each action's code when pointed at.
        help_text=_("The code an action shows when you point at it in the list, or its first part "
                    "(resident) for every action on that kind of record."),
    )
    target_type = forms.ChoiceField(label=_("Kind of record"), required=False, choices=event_target_choices)
    actor = forms.CharField(label=_("Account"), required=False, max_length=150)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "events_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_verb(self):
        return self.cleaned_data["verb"].strip()

    def clean_actor(self):
        return self.cleaned_data["actor"].strip()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", forms.ValidationError(
                _("The end date is before the start date."), code="date_range",
            ))
        return cleaned

    def criteria(self) -> dict:
        """Keyword arguments for selectors.events_for: whole local days, the end day included."""
        c = self.cleaned_data
        tz = timezone.get_current_timezone()

        def start_of(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time.min, tzinfo=tz)

        return {
            "verb": c["verb"],
            "target_type": c["target_type"],
            "actor": c["actor"],
            "since": start_of(c["date_from"]) if c["date_from"] else None,
            "until": start_of(c["date_to"] + dt.timedelta(days=1)) if c["date_to"] else None,
        }

    def url_params(self) -> str:
        params = {k: v for k, v in self.data.items() if k in self.fields and v}
        return urlencode(params)
