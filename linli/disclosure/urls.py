"""The public board's URLs (namespace ``disclosure``), mounted at ``/disclosure/``.

Nothing here lives under ``<code>/log/``: that is the transparency log's HTTP interface
(``linli.transparency.urls``, mounted at the same prefix). The staff pages are
``linli.disclosure.urls_office`` under ``<code>/office/``.
"""

from django.urls import include, path, register_converter

from . import views_public as views
from . import views_office


class Sha256Converter:
    """64 hex digits (an attachment's SHA-256)."""

    regex = "[0-9a-fA-F]{64}"

    def to_python(self, value):
        return value.lower()

    def to_url(self, value):
        return value


register_converter(Sha256Converter, "sha256")

app_name = "disclosure"

urlpatterns = [
    # The menu's link to the back office (before <code>/, which would take "office" for a code).
    path("office/", views_office.index, name="office_index"),
    path("<str:code>/", views.board, name="board"),
    path("<str:code>/feed.atom", views.feed, name="feed"),
    path("<str:code>/e/<int:index>/", views.entry, name="entry"),
    path("<str:code>/e/<int:index>/content", views.content, name="content"),
    path("<str:code>/e/<int:index>/a/<sha256:sha256>", views.attachment, name="attachment"),
    path("<str:code>/e/<int:index>/poster/", views.poster_view, name="poster"),
    path("<str:code>/office/", include("linli.disclosure.urls_office")),
]
