"""``{% recent_failed_signins user as failures %}``: the user's own failed sign-ins, for their page
(linli/core/signin.py), without the page's view having to know about them."""

from django import template

from linli.core import signin

register = template.Library()


@register.simple_tag
def recent_failed_signins(user):
    return list(signin.recent_failures(user))


@register.simple_tag
def signin_locked_until(user):
    if user is None or not getattr(user, "pk", None):
        return None
    return signin.user_locked_until(user)
