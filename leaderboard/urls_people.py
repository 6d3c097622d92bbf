"""URLs of the host's People page: roles (hosts, teaching assistants) and the roster."""

from django.urls import path

from leaderboard.views import claims, people

PEOPLE = "c/<slug:slug>/<slug:edition>/host/people"

urlpatterns = [
    path(f"{PEOPLE}/", people.edition_people, name="edition_people"),
    path(f"{PEOPLE}/roles/add/", people.role_add, name="role_add"),
    path(f"{PEOPLE}/roles/<int:pk>/set/", people.role_set, name="role_set"),
    path(f"{PEOPLE}/roles/<int:pk>/remove/", people.role_remove, name="role_remove"),
    path(f"{PEOPLE}/roles/<int:pk>/again/", people.role_invite_again, name="role_invite_again"),
    path(f"{PEOPLE}/roster/upload/", people.roster_upload, name="roster_upload"),
    path(f"{PEOPLE}/roster/invite/", people.roster_invite, name="roster_invite"),
    path(f"{PEOPLE}/roster/teams/", people.roster_teams, name="roster_teams"),
    path(f"{PEOPLE}/roster/<int:pk>/remove/", people.roster_remove, name="roster_remove"),
    path("invitation/<str:token>/", claims.people_claim, name="people_claim"),
]
