"""Template filters for free text that may carry personal data."""

from django import template

from linli.core.masking import scrub

register = template.Library()


@register.filter
def scrubbed(value) -> str:
    """A free text (plain, or a sealed value) with ID and phone numbers masked and home doors
    removed: for reasons staff wrote, shown to colleagues who need the why, not the who."""
    if value is None:
        return ""
    plain = value.reveal() if hasattr(value, "reveal") else value
    return scrub(str(plain), doors=True)
