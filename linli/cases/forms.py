"""Forms of the case pages: they parse what a person typed; the services decide.

Errors a service raises (``InvalidInput`` with a field) are put back on the
form field they concern through :func:`add_service_error`, so every error
shows next to the input it is about, in the reader's language.
"""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.community.models import Grid, Organisation
from linli.core.validators import validate_phone

from . import rates
from .models import Case, Category, Urgency

# Service error fields → form fields (the services name a few differently).
SERVICE_FIELDS = {"lat": "latitude", "lon": "longitude", "household": "place", "urgency": "urgent"}


def add_service_error(form: forms.Form, exc) -> None:
    """Show a service's InvalidInput next to its field, or above the form."""
    names = {**SERVICE_FIELDS, **getattr(form, "service_fields", {})}
    name = names.get(exc.field, exc.field)
    if name not in form.fields:
        # The staff intake names urgency as it is; the resident form as a checkbox.
        name = exc.field if exc.field in form.fields else None
    form.add_error(name, forms.ValidationError(str(exc.message), code=exc.code))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to four photos; their content is checked by ``linli.cases.photos``."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos"))
        kwargs.setdefault("help_text", _("Up to 4 photos (JPEG, PNG or WebP). Location and camera data are removed."))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", "image/jpeg,image/png,image/webp")

    def clean(self, data, initial=None):
        # How many, and what they are, is checked by linli.cases.photos.clean_images.
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        single = super().clean
        return [single(f, initial) for f in files]


def category_choices(community) -> list:
    """The community's active categories as a two-level list (parents as groups)."""
    categories = list(Category.objects.filter(community=community, active=True).order_by("position", "code"))
    parents = [c for c in categories if c.parent_id is None]
    children = {}
    for c in categories:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    choices = []
    for parent in parents:
        kids = children.get(parent.pk, [])
        if kids:
            choices.append((parent.name, [(parent.pk, parent.name)] + [(k.pk, k.name) for k in kids]))
        else:
            choices.append((parent.pk, parent.name))
    return choices


class CategoryField(forms.TypedChoiceField):
    """A category of one community, chosen from its tree; cleans to the Category."""

    def __init__(self, **kwargs):
        self.empty_label = kwargs.pop("empty_label", "—")
        super().__init__(coerce=int, **kwargs)

    def set_community(self, community):
        self.community = community
        self.choices = [("", self.empty_label)] + category_choices(community)

    def clean(self, value):
        pk = super().clean(value)
        if pk in ("", None):
            return None
        return Category.objects.get(pk=pk, community=self.community, active=True)


def new_token() -> str:
    """A fresh Idempotency-Key for one form: a double click or reload submits once."""
    return secrets.token_urlsafe(16)


class TokenField(forms.CharField):
    """The form's Idempotency-Key; a post without one (an old page) gets a fresh key."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(max_length=40, required=False, **kwargs)

    def clean(self, value):
        return super().clean(value) or new_token()


class IntakeForm(forms.Form):
    """Raise a request: the resident's own page, and the anonymous one."""

    description = forms.CharField(
        label=_("What is the problem?"), max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Say what is wrong and where, in a few sentences."),
    )
    category = CategoryField(label=_("Category"), required=False,
                             empty_label=_("Not sure: the office chooses"))
    place = forms.ChoiceField(label=_("Where?"), choices=Case.Place.choices, widget=forms.RadioSelect)
    grid = forms.ModelChoiceField(label=_("Courtyard"), queryset=Grid.objects.none(), required=False,
                                  empty_label=_("Choose the courtyard"))
    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90,
                                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    longitude = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180,
                                 widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    address = forms.CharField(label=_("Where exactly (optional)"), max_length=200, required=False,
                              help_text=_("For example: by the east gate, in front of building 3."))
    urgent = forms.BooleanField(label=_("Urgent: people or property are in danger now"), required=False)
    contact_name = forms.CharField(label=_("Your name (optional)"), max_length=40, required=False)
    contact_phone = forms.CharField(
        label=_("Your mobile number"), max_length=20, required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("Only staff handling your request can see it."),
    )
    photos = PhotosField()
    token = TokenField()

    def __init__(self, *args, community, resident=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.community = community
        self.resident = resident
        self.fields["category"].set_community(community)
        self.fields["grid"].queryset = Grid.objects.filter(community=community).order_by("code")
        if resident is None:
            # No account: no home to point at, and a phone number to reply to.
            self.fields["place"].choices = [c for c in Case.Place.choices if c[0] != Case.Place.HOME]
            self.fields["place"].initial = Case.Place.GRID
            self.fields["contact_phone"].required = True
        else:
            self.fields["place"].initial = Case.Place.HOME
            del self.fields["contact_name"]
            del self.fields["contact_phone"]
        if not self.is_bound:
            self.fields["token"].initial = new_token()

    def clean_contact_phone(self):
        value = self.cleaned_data.get("contact_phone", "").strip()
        return validate_phone(value) if value else ""

    def clean(self):
        cleaned = super().clean()
        place = cleaned.get("place")
        if place == Case.Place.GRID and not cleaned.get("grid"):
            self.add_error("grid", forms.ValidationError(_("Choose the courtyard."), code="grid_required"))
        if place == Case.Place.POINT:
            lat, lon = cleaned.get("latitude"), cleaned.get("longitude")
            if lat is None and "latitude" not in self.errors:
                self.add_error("latitude", forms.ValidationError(
                    _("Give the point: latitude and longitude, or use your location."), code="point_required"))
            elif lon is None and "longitude" not in self.errors:
                self.add_error("longitude", forms.ValidationError(
                    _("Give the point: latitude and longitude, or use your location."), code="point_required"))
        return cleaned

    def intake_kwargs(self) -> dict:
        """Keyword arguments for ``linli.cases.services.Intake`` (less community, channel, photos)."""
        c = self.cleaned_data
        place = c["place"]
        kwargs = {
            "description": c["description"], "category": c.get("category"),
            "urgency": Urgency.URGENT if c.get("urgent") else Urgency.NORMAL,
            "place": place, "address": c.get("address", ""),
            "grid": c.get("grid") if place == Case.Place.GRID else None,
            "latitude": c.get("latitude") if place == Case.Place.POINT else None,
            "longitude": c.get("longitude") if place == Case.Place.POINT else None,
        }
        if self.resident is not None:
            kwargs["reporter"] = self.resident
            if place == Case.Place.HOME:
                kwargs["household"] = self.resident.household
        else:
            kwargs.update(contact_name=c.get("contact_name", ""), contact_phone=c.get("contact_phone", ""),
                          anonymous=True)
        return kwargs


class StaffIntakeForm(forms.Form):
    """A phone call or walk-in entered by staff, or a grid worker's patrol report."""

    CHANNELS = [(Case.Channel.PHONE, Case.Channel.PHONE.label), (Case.Channel.WALK_IN, Case.Channel.WALK_IN.label),
                (Case.Channel.PATROL, Case.Channel.PATROL.label)]

    community = forms.ModelChoiceField(label=_("Community"), queryset=None, empty_label=None)
    channel = forms.ChoiceField(label=_("Received by"), choices=CHANNELS, widget=forms.RadioSelect,
                                initial=Case.Channel.PHONE)
    description = forms.CharField(label=_("What is the problem?"), max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    category = CategoryField(label=_("Category"), required=False,
                             empty_label=_("Let the classifier suggest one"))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    resident_phone = forms.CharField(
        label=_("Caller's mobile number"), max_length=20, required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
        help_text=_("If it belongs to a registered resident of your area, the case is linked to them; "
                    "otherwise it is kept as the contact number. Not needed for patrol reports."),
    )
    contact_name = forms.CharField(label=_("Caller's name (optional)"), max_length=40, required=False)
    place = forms.ChoiceField(label=_("Where?"), choices=[
        (Case.Place.HOME, _("the resident's home")), (Case.Place.GRID, Case.Place.GRID.label),
        (Case.Place.POINT, Case.Place.POINT.label)], widget=forms.RadioSelect, initial=Case.Place.GRID)
    grid = forms.ModelChoiceField(label=_("Courtyard"), queryset=None, required=False,
                                  empty_label=_("Choose the courtyard"))
    latitude = IntakeForm.base_fields["latitude"]
    longitude = IntakeForm.base_fields["longitude"]
    address = forms.CharField(label=_("Where exactly (optional)"), max_length=200, required=False)
    photos = PhotosField()
    token = TokenField()

    def __init__(self, *args, communities, grids, patrol=False, default_grid=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("prefix", "intake")
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["grid"].queryset = grids
        self.patrol = patrol
        if patrol:
            # The grid worker's own report from the round: they are the reporter, so no caller's
            # number or name is asked, and no resident's home; the place starts at their courtyard.
            self.fields["channel"].choices = [(Case.Channel.PATROL, Case.Channel.PATROL.label)]
            self.fields["channel"].initial = Case.Channel.PATROL
            self.fields["channel"].widget = forms.HiddenInput()
            del self.fields["resident_phone"], self.fields["contact_name"]
            self.fields["place"].choices = [c for c in self.fields["place"].choices if c[0] != Case.Place.HOME]
            if default_grid is not None:
                self.fields["grid"].initial = default_grid.pk
        if communities.count() == 1:
            self.fields["community"].initial = communities.first().pk
            self.fields["community"].widget = forms.HiddenInput()
        community = None
        if self.is_bound:
            try:
                community = communities.filter(pk=int(self.data.get(self.add_prefix("community")) or 0)).first()
            except ValueError:
                community = None
        self.fields["category"].set_community(community or communities.first())
        if not self.is_bound:
            self.fields["token"].initial = new_token()

    def clean_resident_phone(self):
        value = self.cleaned_data.get("resident_phone", "").strip()
        return validate_phone(value) if value else ""

    def clean(self):
        cleaned = super().clean()
        community, grid = cleaned.get("community"), cleaned.get("grid")
        place = cleaned.get("place")
        if place == Case.Place.GRID and not grid:
            self.add_error("grid", forms.ValidationError(_("Choose the courtyard."), code="grid_required"))
        if community and grid and grid.community_id != community.pk:
            self.add_error("grid", forms.ValidationError(_("This courtyard is not in this community."),
                                                         code="grid_community"))
        if place == Case.Place.POINT and (cleaned.get("latitude") is None or cleaned.get("longitude") is None):
            if "latitude" not in self.errors and "longitude" not in self.errors:
                self.add_error("latitude", forms.ValidationError(
                    _("Give the point: latitude and longitude, or use your location."), code="point_required"))
        category = cleaned.get("category")
        if community and category and category.community_id != community.pk:
            self.add_error("category", forms.ValidationError(_("Unknown category."), code="category"))
        return cleaned


# --- moves on a case ---------------------------------------------------------------------------

REASON = dict(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class MoveForm(forms.Form):
    """The input of one move of the case workflow, named by the move's ``form`` in
    linli.cases.workflow.CASE; the move's name is the form's prefix. ``title``, ``button`` and
    ``primary`` (the usual next step) say how the staff case page offers it; ``on_behalf``: the
    unit's own work, which office staff may do for the unit and find tucked away."""

    title = ""
    button = ""
    primary = False
    on_behalf = False

    def __init__(self, *args, case, move, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("prefix", move)
        super().__init__(*args, **kwargs)
        self.case = case
        self.move = move

    def move_input(self) -> dict:
        """The move's input, as keyword arguments of ``linli.cases.services.case_move``."""
        return {}


class AcceptForm(MoveForm):
    title, button, primary = _("Accept"), _("Accept"), True
    category = CategoryField(label=_("Category"))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["category"].set_community(case.community)
        chosen = case.category_id or case.suggested_category_id
        self.fields["category"].initial = chosen
        self.fields["urgency"].initial = case.urgency

    def move_input(self) -> dict:
        return {"category": self.cleaned_data["category"], "urgency": self.cleaned_data["urgency"]}


class RejectForm(MoveForm):
    title, button = _("Reject"), _("Reject")
    reason = forms.CharField(label=_("Why is it rejected? The resident reads this."), **REASON)

    def move_input(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


def units_for(case) -> QuerySet[Organisation]:
    """Handling units that may take a case of this community: its own, and its street's."""
    kinds = list(Organisation.HANDLING_KINDS)
    qs = Organisation.objects.filter(street_id=case.community.street_id, kind__in=kinds)
    return qs.filter(community__isnull=True) | qs.filter(community_id=case.community_id)


class DispatchForm(MoveForm):
    title, button, primary = _("Dispatch to a unit"), _("Dispatch"), True
    unit = forms.ModelChoiceField(label=_("Handling unit"), queryset=None, empty_label=_("Choose the unit"))

    def __init__(self, *args, case, routed=None, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["unit"].queryset = units_for(case).order_by("kind", "name")
        if routed is not None:
            self.fields["unit"].initial = routed.pk
            self.fields["unit"].help_text = _("Suggested by the routing rules: %(unit)s.") % {"unit": routed.name}

    def move_input(self) -> dict:
        return {"unit": self.cleaned_data["unit"]}


class TransferForm(MoveForm):
    title, button = _("Transfer to another unit"), _("Transfer")
    unit = forms.ModelChoiceField(label=_("New handling unit"), queryset=None, empty_label=_("Choose the unit"))
    reason = forms.CharField(label=_("Why is it transferred?"), **REASON)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["unit"].queryset = units_for(case).exclude(pk=case.unit_id).order_by("kind", "name")

    def move_input(self) -> dict:
        return {"unit": self.cleaned_data["unit"], "reason": self.cleaned_data["reason"]}


class ReturnForm(MoveForm):
    title, button = _("Hand back to the community office"), _("Hand back")
    on_behalf = True
    reason = forms.CharField(label=_("Why does your unit hand it back?"), **REASON)

    def move_input(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class ContactForm(MoveForm):
    title, button = _("Record contact with the resident"), _("Resident contacted")


class StartForm(MoveForm):
    title, button = _("Start the work"), _("Start")
    on_behalf = True


class ResolveForm(MoveForm):
    title, button, primary = _("Resolve"), _("Mark as resolved"), True
    on_behalf = True
    resolution = forms.CharField(label=_("What was done? The resident reads this."), max_length=4000,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField()

    def move_input(self) -> dict:
        # The uploads as sent: the view checks their content (linli.cases.photos) before the move.
        return {"resolution": self.cleaned_data["resolution"], "photos": self.cleaned_data.get("photos") or []}


class RatingForm(MoveForm):
    """The resident's rating, on their own page (the staff page has no title for it)."""

    rating = forms.ChoiceField(label=_("How satisfied are you with the handling?"), choices=Case.Rating.choices,
                               widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment (optional)"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def move_input(self) -> dict:
        return {"rating": self.cleaned_data["rating"], "comment": self.cleaned_data["comment"]}


class VisitBackForm(RatingForm):
    title, button, primary = _("Visit-back call"), _("Record the rating"), True

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["rating"].label = _("The resident's rating, from the visit-back call")


class MergeForm(MoveForm):
    title, button = _("Merge as a duplicate"), _("Merge")
    master = forms.ChoiceField(label=_("Merge into"))

    def __init__(self, *args, case, similar=(), **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.similar = {c.number: c for c in similar}
        self.fields["master"].choices = [(c.number, f"{c.number} · {c.description[:40]}") for c in similar]

    def clean_master(self):
        return self.similar[self.cleaned_data["master"]]

    def move_input(self) -> dict:
        return {"master": self.cleaned_data["master"]}


class CloseUnresolvedForm(MoveForm):
    """The office closes a case that cannot be resolved, once it has explained why to the
    resident (诉求无法实现); it counts accepted, not resolved."""

    title, button = _("Close: cannot be resolved"), _("Close as not resolvable")
    kind = forms.ChoiceField(label=_("Why can it not be resolved?"),
                             choices=[("", _("Choose the reason"))] + list(Case.Unresolved.choices))
    explanation = forms.CharField(label=_("What was the resident told? The resident reads this."), max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    rating = forms.ChoiceField(label=_("The resident's rating, if asked on that call"), required=False,
                               choices=[("", _("not asked, or no answer"))] + list(Case.Rating.choices))

    def move_input(self) -> dict:
        return {"kind": self.cleaned_data["kind"], "explanation": self.cleaned_data["explanation"],
                "rating": self.cleaned_data["rating"]}


class NoteForm(forms.Form):
    """A note on a case (not a move: the state stays)."""

    text = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    public = forms.BooleanField(label=_("Show this note to the resident"), required=False)

    def __init__(self, *args, case, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("prefix", "note")
        super().__init__(*args, **kwargs)
        self.case = case


class ContactRevealForm(forms.Form):
    """Why the contact's phone is needed in full (audited: linli.cases.services.case_contact_reveal)."""

    reason = forms.CharField(
        label=_("Reason"), max_length=200,
        error_messages={"required": _("Say why you need to see this value.")},
        widget=forms.TextInput(attrs={"autocomplete": "off",
                                      "placeholder": _("e.g. calling the resident back about the repair")}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("prefix", "contact")
        super().__init__(*args, **kwargs)


# The forms the moves name, by class name, in the order the staff case page offers them: the usual
# next steps first. The resident's RatingForm is not offered there (it has no title).
MOVE_FORMS = {f.__name__: f for f in (AcceptForm, DispatchForm, ContactForm, StartForm, ResolveForm,
                                      VisitBackForm, RatingForm, TransferForm, ReturnForm, MergeForm,
                                      CloseUnresolvedForm, RejectForm)}


# --- lists and the dashboard -------------------------------------------------------------------

NONE = "none"  # a filter value for "no grid / no unit / no category" (drill-down of a "(none)" row)


class RefChoiceField(forms.ChoiceField):
    """A grid, unit or category by id, or "none"; cleans to an int, None (none) or "" (any)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in ("", None):
            return ""
        return None if value == NONE else int(value)


def _refs(qs, empty) -> list:
    return [("", empty)] + [(str(o.pk), str(o)) for o in qs] + [(NONE, _("(none)"))]


class CaseFilterForm(forms.Form):
    """The staff case list: a queue, filters, and the drill-down of one number of the dashboard."""

    # No queue: all cases, narrowed by the filters (the dashboard's drill-down links); the console
    # opened bare lists "action" (linli.cases.today); "all" asks for every case explicitly.
    QUEUES = [
        ("", _("All cases")),
        ("all", _("All cases")),
        ("action", _("Needs action")),
        ("due_today", _("Due today")),
        ("mine", _("My cases")),
        ("triage", _("Triage")),
        ("accept", _("To accept")),
        ("unit", _("With my unit")),
        ("progress", _("In progress")),
        ("rating", _("Awaiting rating")),
        ("overdue", _("Overdue")),
    ]

    queue = forms.ChoiceField(label=_("Queue"), choices=QUEUES, required=False)
    number = forms.CharField(label=_("Case number"), max_length=32, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any status"))] + list(Case.Status.choices),
                               required=False)
    category = RefChoiceField(label=_("Category"))
    top_category = RefChoiceField(label=_("Category group"), widget=forms.HiddenInput)
    grid = RefChoiceField(label=_("Courtyard"))
    unit = RefChoiceField(label=_("Handling unit"))
    community = RefChoiceField(label=_("Community"))
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("Any channel"))] + list(Case.Channel.choices),
                                required=False)
    date_from = forms.DateField(label=_("Submitted from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Submitted to"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    measure = forms.CharField(required=False, widget=forms.HiddenInput, max_length=30)

    DRILL_KEYS = ("community", "grid", "unit", "category", "top_category")

    def __init__(self, *args, categories, grids, units, communities, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _refs(categories, _("Any category"))
        self.fields["top_category"].choices = _refs(categories, "")
        self.fields["grid"].choices = _refs(grids, _("Any courtyard"))
        self.fields["unit"].choices = _refs(units, _("Any unit"))
        self.fields["community"].choices = _refs(communities, _("Any community"))
        if len(communities) < 2:
            self.fields["community"].widget = forms.HiddenInput()

    def clean_measure(self):
        value = self.cleaned_data["measure"]
        if value and value not in rates.MEASURES and value not in rates.RATES:
            raise forms.ValidationError(_("Unknown measure."), code="measure")
        return value

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", forms.ValidationError(
                _("The end of the period comes before its start."), code="period"))
        return cleaned

    def drill_key(self) -> dict:
        """The dashboard group this list shows (for ``rates.cases_behind``)."""
        return {k: self.cleaned_data[k] for k in self.DRILL_KEYS if self.cleaned_data.get(k) != ""}

    def url_params(self) -> str:
        if not self.is_valid():
            return ""
        pairs = []
        for name in self.fields:
            value = self.cleaned_data.get(name)
            if value in ("", None) and not (name in self.DRILL_KEYS and value is None):
                continue
            if name in self.DRILL_KEYS and value is None:
                value = NONE
            pairs.append((name, value.isoformat() if isinstance(value, dt.date) else value))
        return urlencode(pairs)

    @property
    def has_filters(self) -> bool:
        return self.is_valid() and any(
            self.cleaned_data.get(n) not in ("", None) or (n in self.DRILL_KEYS and self.cleaned_data.get(n) is None)
            for n in self.fields if n != "queue")


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def default_months(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 12 months, this one included."""
    today = today or timezone.localdate()
    end = _month_start(today)
    month0 = end.year * 12 + end.month - 1 - 11
    return dt.date(month0 // 12, month0 % 12 + 1, 1), end


class MonthField(forms.DateField):
    """A month (``<input type=month>``: 2025-03), cleaned to its first day."""

    input_formats = ["%Y-%m"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


class RatesForm(forms.Form):
    BY = [("grid", _("Courtyard")), ("unit", _("Handling unit")), ("top_category", _("Category")),
          ("category", _("Subcategory")), ("community", _("Community"))]
    RATES = [("response", _("Response rate")), ("resolution", _("Resolution rate")),
             ("satisfaction", _("Satisfaction rate"))]

    start = MonthField(label=_("From month"), required=False)
    end = MonthField(label=_("To month"), required=False)
    by = forms.ChoiceField(label=_("Compare by"), choices=BY, required=False)
    rate = forms.ChoiceField(label=_("Rank by"), choices=RATES, required=False)

    def __init__(self, params, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "rates_%s")
        # Always bound: the inputs show the period and grouping in effect, defaults included.
        start, end = default_months()
        data = {"start": f"{start:%Y-%m}", "end": f"{end:%Y-%m}", "by": "grid", "rate": "response"}
        data.update({k: v for k, v in params.items() if k in data and v})
        super().__init__(data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        default_start, default_end = default_months()
        cleaned["start"] = cleaned.get("start") or default_start
        cleaned["end"] = cleaned.get("end") or default_end
        cleaned["by"] = cleaned.get("by") or "grid"
        cleaned["rate"] = cleaned.get("rate") or "response"
        if cleaned["end"] < cleaned["start"]:
            self.add_error("end", forms.ValidationError(
                _("The end of the period comes before its start."), code="period"))
        return cleaned

    def period(self) -> tuple[dt.date, dt.date]:
        """First and last day of the chosen months."""
        start, end = self.cleaned_data["start"], self.cleaned_data["end"]
        month0 = end.year * 12 + end.month
        last = dt.date(month0 // 12, month0 % 12 + 1, 1) - dt.timedelta(days=1)
        return start, last
