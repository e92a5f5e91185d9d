"""The services in Django's admin: read-only. Every write goes through the services
(catalogue.py, bookings.py, rooms.py, events.py), each with its event (docs/services.md).
Bookings and sign-ups are listed by number: the admin is no place to browse who booked what."""

from django.contrib import admin

from .models import Provider, Room, Service, Slot


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Provider)
class ProviderAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("name", "community", "active")
    list_filter = ("active",)


@admin.register(Service)
class ServiceAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "community", "active")
    list_filter = ("kind", "active")


@admin.register(Slot)
class SlotAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "service", "starts_at", "capacity", "booked", "status")
    list_filter = ("status",)


@admin.register(Room)
class RoomAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("code", "name", "community", "capacity", "active")
