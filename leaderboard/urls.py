"""URLs: public pages, the participant's pages, accounts, the API and the admin."""

from allauth.account import views as accounts
from django.contrib import admin
from django.urls import include, path

from leaderboard.fleet import views as fleet
from leaderboard.views import favicon, imagenet, pages, submit, tokens

urlpatterns = [
    path("", pages.challenge_list, name="challenge_list"),
    path("favicon.ico", favicon.favicon, name="favicon"),
    path("history/imagenet/", imagenet.imagenet_reported, name="imagenet_reported"),
    path("c/<slug:slug>/", pages.challenge_detail, name="challenge_detail"),
    path("c/<slug:slug>/samples/<int:sample_id>.png", pages.sample_image, name="sample_image"),
    path("c/<slug:slug>/<slug:edition>/", pages.edition_leaderboard, name="edition_leaderboard"),
    path("c/<slug:slug>/<slug:edition>/charts/", pages.edition_charts, name="edition_charts"),
    path("c/<slug:slug>/<slug:edition>/submit/", submit.submission_create, name="submit"),
    path("me/submissions/", pages.my_submissions, name="my_submissions"),
    path("me/submissions/status/", pages.submission_statuses, name="submission_statuses"),
    path("submissions/<uuid:pk>/", pages.submission_detail, name="submission_detail"),
    path("submissions/<uuid:pk>/status/", pages.submission_status, name="submission_status"),
    path("me/tokens/", tokens.api_tokens, name="api_tokens"),
    path("me/tokens/new/", tokens.api_token_create, name="api_token_create"),
    path("me/tokens/revoke/", tokens.api_token_revoke, name="api_token_revoke"),
    path("staff/fleet/", fleet.fleet_page, name="fleet"),
    path("healthz", fleet.healthz, name="healthz"),
    path("api/", include(("leaderboard.api.urls", "api"))),
    path("", include("leaderboard.urls_hosting")),
    path("", include("leaderboard.urls_classroom")),
    path("", include("leaderboard.urls_grades")),
    path("", include("leaderboard.urls_host_control")),
    path("", include("leaderboard.urls_people")),
    path("", include("leaderboard.urls_kit")),
    path("", include("leaderboard.urls_robustness")),
    path("", include("leaderboard.urls_checks")),
    path("", include("leaderboard.urls_docs")),
    path("", include("leaderboard.urls_notifications")),
    # Accounts are django-allauth's (sign-up, verification, password reset, e-mail addresses,
    # single sign-on when configured); the site's templates name these three as before.
    path("accounts/login/", accounts.login, name="login"),
    path("accounts/logout/", accounts.logout, name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
