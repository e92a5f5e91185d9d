"""Places and people: district → street → community → grid → building → unit → household → resident.

Every row below the street belongs to exactly one community, and every read
goes through ``selectors`` which filter by what the user may see.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from linli.core.fields import ProtectedField


class District(models.Model):
    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self):
        return self.name


class Street(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="streets")
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")

    def __str__(self):
        return self.name


class Community(models.Model):
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities")
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=64)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    boundary = models.JSONField(_("boundary"), default=list, blank=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")

    def __str__(self):
        return self.name


class Grid(models.Model):
    """A courtyard (院落): the unit a grid worker owns."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids")
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=64)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    boundary = models.JSONField(_("boundary"), default=list, blank=True)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["community_id", "code"]
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="grid_code_unique")]

    def __str__(self):
        return self.name


class Building(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="buildings")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="buildings")
    name = models.CharField(_("name"), max_length=32, help_text=_("As residents say it, e.g. 3栋"))
    floors = models.PositiveSmallIntegerField(_("floors"), default=6)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    osm_id = models.CharField(_("OpenStreetMap id"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["grid_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "name"], name="building_name_unique_in_grid")
        ]

    def __str__(self):
        return f"{self.grid.name} {self.name}"


class Unit(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units")
    number = models.CharField(_("unit"), max_length=8)

    class Meta:
        verbose_name = pgettext_lazy("building entrance", "unit")
        verbose_name_plural = pgettext_lazy("building entrance", "units")
        ordering = ["building_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="unit_number_unique")
        ]

    def __str__(self):
        return _("%(building)s, unit %(unit)s") % {"building": self.building, "unit": self.number}


class Tag(models.Model):
    """A fact about a resident that services target (独居老人, 低保, 残疾人…).

    Tags are personal data: they are visible only where the resident is.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="tags")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=32)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["community_id", "code"]
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="tag_code_unique")]

    def __str__(self):
        return self.name


class Household(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="households")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="households")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="households")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="households")
    room = models.CharField(_("room"), max_length=16)
    # The 建筑面积 of the 专有部分 in m² (null: unknown); owners' votes weigh by it.
    floor_area = models.DecimalField(
        _("floor area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["grid_id", "building_id", "unit_id", "room"]
        constraints = [models.UniqueConstraint(fields=["unit", "room"], name="household_room_unique")]

    def __str__(self):
        return self.door

    @property
    def door(self) -> str:
        return _("%(building)s unit %(unit)s room %(room)s") % {
            "building": self.building.name, "unit": self.unit.number, "room": self.room,
        }


class Resident(models.Model):
    class Gender(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    class Relation(models.TextChoices):
        HEAD = "head", _("head of household")
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")
        PARENT = "parent", _("parent")
        GRANDCHILD = "grandchild", _("grandchild")
        OTHER = "other", _("other relative or tenant")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="residents")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="residents")
    # Copies of the household's place, kept by the services, so that scoped
    # look-ups ("surname within my grid") use one index without a join.
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="residents")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="residents")

    name = ProtectedField(_("name"), kind="name")
    id_number = ProtectedField(_("ID card number"), kind="id_number")
    phone = ProtectedField(_("mobile number"), kind="phone")
    address = ProtectedField(_("registered address"), kind="address")
    birth_date = ProtectedField(_("birth date"), kind="date")
    note = ProtectedField(_("sensitive note"), kind="text")

    # Blind indexes (HMAC, see linli.core.crypto) for exact look-up.
    name_index = models.CharField(max_length=32, db_index=True, editable=False)
    surname_index = models.CharField(max_length=32, editable=False)
    id_index = models.CharField(max_length=32, editable=False)
    phone_index = models.CharField(max_length=32, blank=True, db_index=True, editable=False)

    # Coarse, non-identifying facts kept in clear for filters and statistics:
    # the birth year (age bands, 全龄 statistics) but not the full date.
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), db_index=True)
    relation = models.CharField(
        _("relation to head"), max_length=12, choices=Relation.choices, default=Relation.HEAD
    )
    is_party_member = models.BooleanField(_("party member"), default=False)
    is_owner = models.BooleanField(_("owner of record"), default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="residents", verbose_name=_("tags"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="resident", verbose_name=_("account"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    PROTECTED_FIELDS = ("name", "id_number", "phone", "address", "birth_date", "note")

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "id_index"], name="resident_id_unique")
        ]
        indexes = [
            models.Index(fields=["grid", "surname_index"], name="resident_grid_surname"),
            models.Index(fields=["community", "surname_index"], name="resident_comm_surname"),
        ]

    def __str__(self):
        return str(self.name) if self.name else f"#{self.pk}"

    def age(self, today: dt.date | None = None) -> int:
        """Age in whole years, from the birth year (the full date is sealed)."""
        return (today or dt.date.today()).year - self.birth_year


class Organisation(models.Model):
    """Party organisations, the residents' committee and handling units."""

    class Kind(models.TextChoices):
        PARTY_COMMITTEE = "party_committee", _("community party committee")
        PARTY_BRANCH = "party_branch", _("party branch")
        PARTY_GROUP = "party_group", _("party group")
        RESIDENTS_COMMITTEE = "residents_committee", _("residents' committee")
        PROPERTY_COMPANY = "property_company", _("property company")
        STREET_DEPARTMENT = "street_department", _("street office department")
        UTILITY = "utility", _("utility")
        PARTNER = "partner", _("partner organisation")

    HANDLING_KINDS = {Kind.PROPERTY_COMPANY, Kind.STREET_DEPARTMENT, Kind.UTILITY, Kind.PARTNER}

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=64)
    # Community organisations belong to their community; street departments
    # and utilities belong to the street and serve all its communities.
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="organisations"
    )
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="organisations")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    grids = models.ManyToManyField(Grid, blank=True, related_name="organisations", verbose_name=_("grids"))

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["street", "community", "kind", "name"], name="organisation_unique")
        ]

    def __str__(self):
        return self.name

    @property
    def is_handling_unit(self) -> bool:
        return self.kind in self.HANDLING_KINDS


class StaffRole(models.Model):
    """What an account may do, and where. One account may hold several roles."""

    class Role(models.TextChoices):
        COMMUNITY_ADMIN = "community_admin", _("community administrator")
        COMMUNITY_WORKER = "community_worker", _("community worker")
        GRID_WORKER = "grid_worker", _("grid worker")
        PARTY_SECRETARY = "party_secretary", _("party secretary")
        BUILDING_LEADER = "building_leader", _("building leader")
        UNIT_STAFF = "unit_staff", _("handling-unit staff")
        STREET_SUPERVISOR = "street_supervisor", _("street supervisor")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="staff_roles"
    )
    street = models.ForeignKey(
        Street, null=True, blank=True, on_delete=models.PROTECT, related_name="staff_roles",
        help_text=_("For street supervisors: they see every community of this street."),
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="staff_roles",
        help_text=_("For handling-unit staff."),
    )
    grids = models.ManyToManyField(Grid, blank=True, related_name="staff_roles", verbose_name=_("grids"))
    buildings = models.ManyToManyField(
        Building, blank=True, related_name="staff_roles", verbose_name=_("buildings")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role="street_supervisor", street__isnull=False)
                    | (~models.Q(role="street_supervisor") & models.Q(community__isnull=False))
                ),
                name="staffrole_has_scope",
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"


class ImportBatch(models.Model):
    """An uploaded residents file: previewed, then applied all at once or not at all."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("previewed")
        INVALID = "invalid", _("has errors")
        APPLIED = "applied", _("applied")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="import_batches")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(max_length=64)
    # The uploaded file holds personal data: kept sealed until applied, then dropped.
    content = ProtectedField(kind="text")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"


class NeedCategory(models.Model):
    """One node of a community's need-tag tree (the paper's 五大类11小类): a category
    (service, culture, environment, space, industry) or one of its subcategories.

    Households are tagged with subcategories only. The default tree is installed by
    ``linli.community.needs.needs_install_defaults``; admins rename, reorder, add or
    deactivate nodes per community in the Django admin. The derivation rules name
    subcategories by ``code``, so a renamed node keeps its rules.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="need_categories")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("parent category"),
    )
    code = models.SlugField(_("code"), max_length=40)
    name_zh = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("need category")
        verbose_name_plural = _("need categories")
        ordering = ["community_id", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="need_category_code_unique")
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    def clean(self):
        """Two levels, within one community (what the admin form checks)."""
        from django.core.exceptions import ValidationError

        if self.parent_id is not None:
            if self.parent.community_id != self.community_id:
                raise ValidationError({"parent": _("The parent category belongs to another community.")})
            if self.parent.parent_id is not None or self.parent_id == self.pk:
                raise ValidationError({"parent": _("Choose a top-level category as the parent.")})


class HouseholdNeed(models.Model):
    """A need tag on a household: which subcategory, where it came from, and why.

    The reason is personal data (an age, a case's words) and is sealed; the
    evidence is a reference without personal data (a case number, a rule code).
    Derived tags are ``suggested`` until staff confirm or dismiss them; the
    recomputation never touches a confirmed or dismissed tag's status.
    """

    class Source(models.TextChoices):
        CASE = "case", _("a case")
        SERVICE = "service", _("service use")
        REGISTRY = "registry", _("registry facts")
        STAFF = "staff", _("staff")

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("suggested")
        CONFIRMED = "confirmed", _("confirmed")
        DISMISSED = "dismissed", _("dismissed")

    ACTIVE_STATUSES = (Status.SUGGESTED, Status.CONFIRMED)

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="needs")
    category = models.ForeignKey(
        NeedCategory, on_delete=models.PROTECT, related_name="household_needs", verbose_name=_("need"),
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reason = ProtectedField(_("reason"), kind="text")
    evidence = models.CharField(_("evidence"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUGGESTED)
    assigned_at = models.DateTimeField(_("assigned at"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("assigned by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("decided by"),
    )
    # Why staff confirmed or dismissed it: free text, so sealed like the reason.
    decision_reason = ProtectedField(_("reason for the decision"), kind="text")
    last_seen_at = models.DateTimeField(_("last derived at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("household need")
        verbose_name_plural = _("household needs")
        ordering = ["household_id", "category_id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "category"], name="household_need_unique")
        ]
        indexes = [
            models.Index(fields=["community", "category", "status"], name="household_need_comm_cat"),
        ]

    def __str__(self):
        return f"{self.household_id} · {self.category}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES
