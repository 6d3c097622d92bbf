"""URLs of the robustness track: an edition's robustness leaderboard and the sample strip."""

from django.urls import path

from leaderboard.views import robustness

urlpatterns = [
    path(
        "c/<slug:slug>/<slug:edition>/robustness/",
        robustness.edition_robustness,
        name="edition_robustness",
    ),
    path(
        "c/<slug:slug>/robustness/<slug:name>.png",
        robustness.robustness_sample,
        name="robustness_sample",
    ),
]
