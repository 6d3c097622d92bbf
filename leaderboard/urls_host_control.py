"""URLs of the host's controls: re-run entries, pause uploads, freeze the public board."""

from django.urls import path

from leaderboard.views import host_control

EDITION = "c/<slug:slug>/<slug:edition>"

urlpatterns = [
    path(f"{EDITION}/host/rerun/", host_control.entries_rerun, name="entries_rerun"),
    path(f"{EDITION}/host/pause/", host_control.submissions_pause, name="submissions_pause"),
    path(f"{EDITION}/host/freeze/", host_control.board_freeze, name="board_freeze"),
]
