"""Template helpers of the public board."""

from django import template
from django.template.loader import get_template

register = template.Library()


@register.simple_tag(takes_context=True)
def include_if_present(context, name: str):
    """Render template ``name`` with the current context, or nothing if no such template is
    installed (the entry page's browser check, ``disclosure/_verify.html``, is a separate
    part)."""
    try:
        found = get_template(name)
    except template.TemplateDoesNotExist:
        return ""
    return found.render(context.flatten(), context.get("request"))

