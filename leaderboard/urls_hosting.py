"""URLs of hosting from the browser: a new challenge, its uploaded sets and their imports."""

from django.urls import path

from leaderboard.views import hosting

CHALLENGE = "c/<slug:slug>"

urlpatterns = [
    path("host/challenges/new/", hosting.challenge_create, name="challenge_create"),
    path(f"{CHALLENGE}/host/data/", hosting.challenge_data, name="challenge_data"),
    path(f"{CHALLENGE}/host/data/upload/", hosting.dataset_upload, name="dataset_upload"),
    path(
        f"{CHALLENGE}/host/data/<uuid:pk>/progress.json",
        hosting.import_progress,
        name="import_progress",
    ),
]
