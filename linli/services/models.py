"""Bookable services, the service centre's rooms and activities for all ages (docs/services.md)."""
