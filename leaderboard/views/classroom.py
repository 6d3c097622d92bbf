"""Students' side of a classroom edition: joining with the code or link, teams, finals."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from leaderboard import selectors, services
from leaderboard.classroom_forms import JoinForm, TeamCreateForm, TeamInviteForm, TeamJoinForm
from leaderboard.errors import ClassroomRefused
from leaderboard.metrics import metrics_shown
from leaderboard.models import Edition, TeamInvitation


@login_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """Enter a code from the instructor; the code alone says which edition it is."""
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"].strip().upper()
        return redirect("join_link", code=code)
    return render(request, "leaderboard/join.html", {"form": form, "edition": None})


@login_required
@require_http_methods(["GET", "POST"])
def join_link(request: HttpRequest, code: str) -> HttpResponse:
    """The invite link: shows the edition, joins on POST (a GET never changes anything)."""
    edition = selectors.edition_get_by_join_code(code=code)
    if request.method == "POST":
        try:
            services.edition_join(edition=edition, user=request.user, code=code)
        except ClassroomRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"You have joined {edition.display_name}.")
            return redirect(_team_url(edition))
    admitted = selectors.edition_admits(edition=edition, user=request.user)
    context = {"edition": edition, "code": code.upper(), "admitted": admitted, "form": None}
    return render(request, "leaderboard/join.html", context)


@login_required
def team(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    page = selectors.team_page(edition=found, user=request.user)
    context = {
        "page": page,
        "edition": found,
        "create_form": TeamCreateForm(),
        "join_form": TeamJoinForm(),
        "invite_form": TeamInviteForm(),
        "closed": found.is_closed(),
        "metrics": metrics_shown(challenge=found.challenge, first=found.challenge.primary_metric),
    }
    return render(request, "leaderboard/team.html", context)


@login_required
@require_POST
def team_create(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    form = TeamCreateForm(request.POST)
    if form.is_valid():
        _attempt(
            request,
            lambda: services.team_create(
                edition=found, user=request.user, name=form.cleaned_data["name"]
            ),
            success=f"Team {form.cleaned_data['name']!r} created. Share its code with teammates.",
        )
    return redirect(_team_url(found))


@login_required
@require_POST
def team_join(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    form = TeamJoinForm(request.POST)
    if form.is_valid():
        _attempt(
            request,
            lambda: services.team_join(
                edition=found, user=request.user, code=form.cleaned_data["code"]
            ),
            success="You have joined the team.",
        )
    return redirect(_team_url(found))


@login_required
@require_POST
def team_invite(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    form = TeamInviteForm(request.POST)
    own = selectors.team_of_user(edition=found, user=request.user)
    if form.is_valid() and own is not None:
        username = form.cleaned_data["username"]
        _attempt(
            request,
            lambda: services.team_invite(team=own, by=request.user, username=username),
            success=f"{username} is invited; they accept on this page.",
        )
    return redirect(_team_url(found))


@login_required
@require_POST
def team_leave(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    _attempt(
        request,
        lambda: services.team_leave(edition=found, user=request.user),
        success="You have left the team.",
    )
    return redirect(_team_url(found))


@login_required
@require_POST
def invitation_answer(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(
        TeamInvitation.objects.select_related("team__edition__challenge"),
        pk=pk,
        user=request.user,
    )
    accept = request.POST.get("answer") == "accept"
    _attempt(
        request,
        lambda: services.invitation_answer(invitation=invitation, user=request.user, accept=accept),
        success=f"You have joined {invitation.team.name}." if accept else "Invitation declined.",
    )
    return redirect(_team_url(invitation.team.edition))


@login_required
@require_POST
def team_finals(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    own = selectors.team_of_user(edition=found, user=request.user)
    if own is not None:
        chosen = request.POST.getlist("final")
        _attempt(
            request,
            lambda: services.team_finals_select(team=own, user=request.user, submission_ids=chosen),
            success=(
                f"{len(chosen)} final submission{'s' if len(chosen) != 1 else ''} selected."
                if chosen
                else "No finals selected: your best public entry will count."
            ),
        )
    return redirect(_team_url(found))


def _attempt(request: HttpRequest, action: Callable[[], object], *, success: str) -> bool:
    """Run a service call; its refusal becomes the message shown on the next page."""
    try:
        action()
    except ClassroomRefused as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True


def _team_url(edition: Edition) -> str:
    return reverse("team", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})
