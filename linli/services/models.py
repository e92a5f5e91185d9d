"""Models of the services app (docs/services.md).

Bookable services: a :class:`Provider` (a clinic, a barber's volunteers, a law firm; its
organisation's unit staff run its services) offers :class:`Service` rows; each service has
:class:`Slot` rows (a time, a capacity, places held for residents with a matching need) that
residents take by :class:`Booking` (booked, or on the waiting list). The counter ``Slot.booked``
with a CHECK ``booked <= capacity`` keeps capacity exact under concurrency.

Rooms and activities: the service centre's :class:`Room` rows are booked by :class:`RoomBooking`
(intervals; the room's row is the lock); an :class:`Event` (an activity for children, elders or
families) takes sign-ups (:class:`EventSignup`, a party of up to six) against ``Event.taken`` and
keeps its :class:`EventPhoto` rows after it.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_qr_secret():
    return secrets.token_hex(32)


class Provider(models.Model):
    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    organisation = models.ForeignKey("community.Organisation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("organisation"))
    description = models.CharField(_("description"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Service(models.Model):
    class Kind(models.TextChoices):
        CLINIC = "clinic", _("free clinic")
        HAIRCUT = "haircut", _("free haircut")
        DENTAL = "dental", _("dental check")
        LEGAL = "legal", _("legal aid")
        COUNSELLING = "counselling", _("counselling")
        HOUSEKEEPING = "housekeeping", _("housekeeping")
        OTHER = "other", _("other service")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    description = models.CharField(_("description"), max_length=300, blank=True)
    place = models.CharField(_("place"), max_length=120)
    need_categories = models.JSONField(_("priority for needs"), default=list, blank=True)
    cancel_hours = models.PositiveSmallIntegerField(_("free cancellation until (hours before)"), default=2)
    max_active = models.PositiveSmallIntegerField(_("open bookings a resident may hold"), default=2)
    no_show_limit = models.PositiveSmallIntegerField(_("no-shows in 90 days before online booking stops"),
                                                     default=3)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="services_service_code")]

    def __str__(self):
        return self.name


class Slot(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CANCELLED = "cancelled", _("cancelled")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveSmallIntegerField(_("places"))
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)
    priority_places = models.PositiveSmallIntegerField(_("places held for priority residents"), default=0)
    priority_until = models.DateTimeField(_("priority places held until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["service", "status", "starts_at"], name="services_slot_open")]
        constraints = [
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="services_slot_booked_lte_capacity"),
            models.CheckConstraint(condition=Q(priority_places__lte=F("capacity")),
                                   name="services_slot_priority_lte_capacity"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="services_slot_ends_after"),
            models.UniqueConstraint(fields=["service", "starts_at"], name="services_slot_start_once"),
        ]

    def __str__(self):
        return f"slot {self.pk}"


class Booking(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        WAITING = "waiting", _("on the waiting list")
        CANCELLED = "cancelled", _("cancelled")
        LATE_CANCELLED = "late_cancelled", _("cancelled late")
        ATTENDED = "attended", _("attended")
        NO_SHOW = "no_show", _("did not come")

    class Channel(models.TextChoices):
        ONLINE = "online", _("online")
        PHONE = "phone", _("by phone")
        WALK_IN = "walk_in", _("walk-in")
        API = "api", _("app")

    OPEN = ("booked", "waiting")

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="bookings")
    resident = models.ForeignKey("community.Resident", on_delete=models.PROTECT, related_name="service_bookings")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.BOOKED)
    priority = models.BooleanField(_("priority"), default=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    marked_at = models.DateTimeField(null=True, blank=True)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["slot", "status"], name="services_booking_slot"),
            models.Index(fields=["resident", "status"], name="services_booking_resident"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["slot", "resident"], condition=Q(status__in=["booked", "waiting"]),
                                    name="services_booking_one_per_slot"),
        ]

    def __str__(self):
        return f"booking {self.pk}"


class Room(models.Model):
    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    capacity = models.PositiveSmallIntegerField(_("people"))
    floor_area = models.PositiveSmallIntegerField(_("floor area (m²)"), null=True, blank=True)
    opening = models.JSONField(_("opening hours"), default=dict, blank=True)
    needs_approval = models.BooleanField(_("bookings need approval"), default=True)
    lock_version = models.PositiveIntegerField(default=0, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="services_room_code")]

    def __str__(self):
        return self.name


class RoomBooking(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved")
        DECLINED = "declined", _("declined")
        CANCELLED = "cancelled", _("cancelled")

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    purpose = models.CharField(_("purpose"), max_length=200)
    attendees = models.PositiveSmallIntegerField(_("people"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("community.Organisation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("organisation"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["room", "starts_at"], name="services_roombooking_room")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="services_roombooking_ends_after"),
        ]

    def __str__(self):
        return f"room booking {self.pk}"


class Event(models.Model):
    class Audience(models.TextChoices):
        CHILDREN = "children", _("children")
        ELDERS = "elders", _("elders")
        FAMILIES = "families", _("families")
        ALL = "all", _("everyone")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    audience = models.CharField(_("for"), max_length=10, choices=Audience.choices, default=Audience.ALL)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=120)
    room_booking = models.OneToOneField(RoomBooking, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="event")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveSmallIntegerField(_("places"))
    taken = models.PositiveSmallIntegerField(_("taken"), default=0)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    signup_closes_at = models.DateTimeField(_("sign-up closes at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    staff_activity = models.OneToOneField("volunteers.Activity", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    qr_secret = models.CharField(max_length=64, default=new_qr_secret, editable=False)
    summary = models.TextField(_("summary"), blank=True)
    summary_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["community", "status", "starts_at"], name="services_event_open")]
        constraints = [
            models.CheckConstraint(condition=Q(taken__lte=F("capacity")), name="services_event_taken_lte_capacity"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="services_event_ends_after"),
        ]

    def __str__(self):
        return self.title


class EventSignup(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        WAITING = "waiting", _("on the waiting list")
        CANCELLED = "cancelled", _("cancelled")
        ATTENDED = "attended", _("attended")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="signups")
    resident = models.ForeignKey("community.Resident", on_delete=models.PROTECT, related_name="event_signups")
    party_size = models.PositiveSmallIntegerField(_("people"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    created_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["event", "status"], name="services_signup_event")]
        constraints = [
            models.CheckConstraint(condition=Q(party_size__gte=1, party_size__lte=6),
                                   name="services_signup_party_1_6"),
            models.UniqueConstraint(fields=["event", "resident"],
                                    condition=Q(status__in=["confirmed", "waiting", "attended"]),
                                    name="services_signup_one_per_event"),
        ]

    def __str__(self):
        return f"sign-up {self.pk}"


class EventPhoto(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="services/events/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
