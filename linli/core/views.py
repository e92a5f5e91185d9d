from django.conf import settings
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

# Large-text mode (MIIT 适老化): a cookie, not an account setting, so that it works before
# signing in (the anonymous report page) and on a shared family phone. Nothing personal.
TEXT_SIZE_COOKIE = "linli_text"
TEXT_SIZES = ("normal", "large")


@never_cache
def healthz(request):
    """200 when the database answers; 503 otherwise. For load balancers and `make demo`."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@require_POST
def text_size(request):
    """Switch large text on or off, then go back where the person was (a same-site path only)."""
    size = request.POST.get("size", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if size in TEXT_SIZES:
        response.set_cookie(TEXT_SIZE_COOKIE, size, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=settings.SESSION_COOKIE_SECURE, httponly=True)
    return response


def large_text(request) -> bool:
    return request.COOKIES.get(TEXT_SIZE_COOKIE) == "large"


# Error pages show no request data and no traceback, whatever DEBUG says.
def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def forbidden(request, exception=None):
    return render(request, "errors/403.html", status=403)


def server_error(request):
    return render(request, "errors/500.html", status=500)
