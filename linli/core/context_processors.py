from django.conf import settings


def linli(request):
    return {"LINLI_DEMO": settings.USING_DEMO_SECRETS}
