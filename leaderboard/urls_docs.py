"""URLs of the help pages."""

from django.urls import path

from leaderboard.views import docs

urlpatterns = [
    path("docs/export/", docs.export_page, name="docs_export"),
]
