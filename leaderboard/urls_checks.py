"""URLs of free model checks: the submit page's check post, the result page and its poll."""

from django.urls import path

from leaderboard.views import checks

urlpatterns = [
    path(
        "c/<slug:slug>/<slug:edition>/check/",
        checks.model_check_create,
        name="model_check_create",
    ),
    path("checks/<uuid:pk>/", checks.model_check_detail, name="model_check"),
    path("checks/<uuid:pk>/status/", checks.model_check_poll, name="model_check_status"),
]
