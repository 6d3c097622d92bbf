"""API URLs, mounted at /api/ under the ``api`` namespace; the schema and its docs included."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from leaderboard.fleet.api import Fleet

from .views import account, boards, catalog, checks, host, submissions
from .views.architectures import ArchitectureList

EDITION = "challenges/<slug:slug>/editions/<slug:edition>/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The pages' language and titles set from outside the widgets (templates/api/).
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    path("me/", account.Me.as_view(), name="me"),
    path("me/submissions/", submissions.MySubmissions.as_view(), name="my_submissions"),
    path("challenges/", catalog.ChallengeList.as_view(), name="challenge_list"),
    path("challenges/<slug:slug>/", catalog.ChallengeDetail.as_view(), name="challenge_detail"),
    path("challenges/<slug:slug>/history/", catalog.ChallengeHistory.as_view(), name="history"),
    path("architectures/", ArchitectureList.as_view(), name="architectures"),
    path(EDITION, catalog.EditionDetail.as_view(), name="edition_detail"),
    path(f"{EDITION}leaderboard/", boards.Leaderboard.as_view(), name="leaderboard"),
    path(f"{EDITION}submissions/", submissions.SubmissionCreate.as_view(), name="submit"),
    path(
        "submissions/<uuid:pk>/", submissions.SubmissionDetail.as_view(), name="submission_detail"
    ),
    path(f"{EDITION}checks/", checks.ModelCheckCreate.as_view(), name="check_create"),
    path("checks/<uuid:pk>/", checks.ModelCheckDetail.as_view(), name="check_detail"),
    # A host's controls (hosts and teaching assistants; pause and freeze: hosts only).
    path(f"{EDITION}host/", host.HostControls.as_view(), name="host_controls"),
    path(f"{EDITION}host/reruns/", host.Reruns.as_view(), name="host_reruns"),
    path(f"{EDITION}host/pause/", host.Pause.as_view(), name="host_pause"),
    path(f"{EDITION}host/freeze/", host.Freeze.as_view(), name="host_freeze"),
    path("fleet/", Fleet.as_view(), name="fleet"),
    re_path(r"^.*$", account.EndpointNotFound.as_view(), name="not_found"),
]
