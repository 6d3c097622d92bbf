"""URLs of classroom editions: hosting, joining, teams and finals, CSV exports."""

from django.urls import path

from leaderboard.views import classroom, host, host_baselines

EDITION = "c/<slug:slug>/<slug:edition>"

urlpatterns = [
    path("host/editions/new/", host.edition_create, name="edition_create"),
    path(f"{EDITION}/host/", host.edition_host, name="edition_host"),
    path(f"{EDITION}/host/settings/", host.edition_settings, name="edition_settings"),
    path(f"{EDITION}/host/code/", host.join_code_renew, name="join_code_renew"),
    path(
        f"{EDITION}/host/entries/<uuid:pk>/moderate/",
        host.entry_moderate,
        name="entry_moderate",
    ),
    path(
        f"{EDITION}/host/baselines/<uuid:pk>/switch/",
        host_baselines.baseline_switch,
        name="baseline_switch",
    ),
    path(f"{EDITION}/host/standings.csv", host.standings_csv, name="standings_csv"),
    path(f"{EDITION}/host/submissions.csv", host.submissions_csv, name="submissions_csv"),
    path("join/", classroom.join, name="join"),
    path("join/<str:code>/", classroom.join_link, name="join_link"),
    path(f"{EDITION}/team/", classroom.team, name="team"),
    path(f"{EDITION}/team/create/", classroom.team_create, name="team_create"),
    path(f"{EDITION}/team/join/", classroom.team_join, name="team_join"),
    path(f"{EDITION}/team/invite/", classroom.team_invite, name="team_invite"),
    path(f"{EDITION}/team/leave/", classroom.team_leave, name="team_leave"),
    path(f"{EDITION}/team/finals/", classroom.team_finals, name="team_finals"),
    path("invitations/<int:pk>/answer/", classroom.invitation_answer, name="invitation_answer"),
]
