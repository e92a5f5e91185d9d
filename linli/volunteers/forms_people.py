"""Forms of the people pages: joining, teams, the needs board (docs/volunteers.md)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Membership, Need, Team
from .skills import ACTIVITY_TYPES, AVAILABILITY, SKILLS


class BigCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes drawn as large tappable rows (volunteers/people.css, ``.bigchecks``)."""

    def __init__(self, attrs=None, choices=()):
        super().__init__(attrs={"class": "bigchecks", **(attrs or {})}, choices=choices)


class GridChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class GuardianChoice(forms.ModelChoiceField):
    """The adults of the household, by masked name (张*): the minor's account sees no more."""

    def label_from_instance(self, obj):
        return str(obj.name) if obj.name else _("a member of your household")


class JoinForm(forms.Form):
    skills = forms.MultipleChoiceField(label=_("How I can help"), choices=SKILLS, widget=BigCheckboxes,
                                       error_messages={"required": _("Choose at least one way you can help.")})
    availability = forms.MultipleChoiceField(
        label=_("When I can help"), choices=AVAILABILITY, widget=BigCheckboxes,
        error_messages={"required": _("Choose at least one time you can help.")})
    grid = GridChoice(label=_("My courtyard"), queryset=None, empty_label=None,
                      help_text=_("Where you live: activities nearby are suggested to you first."))
    guardian = GuardianChoice(label=_("My guardian"), queryset=None, required=False,
                              help_text=_("An adult of your household who agrees that you volunteer."))
    honour_opt_in = forms.BooleanField(label=_("Show my name (shortened, like 张*明) and my hours on the "
                                               "public honour list"), required=False)

    def __init__(self, *args, resident, minor: bool, guardians, **kwargs):
        super().__init__(*args, **kwargs)
        from linli.community.models import Grid

        self.fields["grid"].queryset = Grid.objects.filter(community_id=resident.community_id).order_by("code")
        if minor:
            from linli.community.models import Resident

            self.fields["guardian"].queryset = Resident.objects.filter(pk__in=[g.pk for g in guardians])
            self.fields["guardian"].required = True
        else:
            del self.fields["guardian"]


class LeaveForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, I want to stop volunteering"))


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=Team.Kind.choices)
    description = forms.CharField(label=_("What the team does"), max_length=300, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class MemberForm(forms.Form):
    volunteer = forms.TypedChoiceField(label=_("Volunteer"), coerce=int, choices=())
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    def __init__(self, *args, volunteers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].choices = [(v.pk, label) for v, label in volunteers]


class NeedForm(forms.Form):
    title = forms.CharField(label=_("What help is needed"), max_length=120)
    activity_type = forms.ChoiceField(label=_("Kind of help"), choices=ACTIVITY_TYPES)
    description = forms.CharField(label=_("Details"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=_("No names, phone or ID numbers: the board is read by "
                                              "the people who plan the help."))
    grid = GridChoice(label=_("Grid"), queryset=None, required=False, empty_label=_("the whole community"))

    def __init__(self, *args, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids


class NeedFilterForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), required=False,
                               choices=[("", _("any"))] + list(Need.Source.choices))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("open or planned")), ("all", _("any"))] + list(Need.Status.choices))
    grid = forms.TypedChoiceField(label=_("Grid"), required=False, coerce=int, empty_value=None, choices=())
    activity_type = forms.ChoiceField(label=_("Kind of help"), required=False,
                                      choices=[("", _("any"))] + list(ACTIVITY_TYPES))

    def __init__(self, *args, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = [("", _("any"))] + [(g.pk, g.name) for g in grids]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CaseHandForm(forms.Form):
    activity_type = forms.ChoiceField(label=_("Kind of help"), choices=ACTIVITY_TYPES)


class AskForm(forms.Form):
    """A resident asks neighbours for help (a need of source "resident")."""

    title = forms.CharField(label=_("What help do you need?"), max_length=120,
                            help_text=_("In a few words, e.g. “someone to walk with me to the clinic on Tuesday”."))
    activity_type = forms.ChoiceField(label=_("Kind of help"), choices=ACTIVITY_TYPES)
    description = forms.CharField(label=_("Details"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=_("No phone or ID numbers: the office contacts you."))
