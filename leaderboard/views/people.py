"""The host's People page: who runs the edition (hosts, teaching assistants, invitations) and the
roster of students (upload, status, invite again, one team per student).

Hosts only (``selectors.permissions.can_host``): a teaching assistant is told so (403); anyone
else finds no such page (404), as on the host dashboard. Each POST calls one service and goes
back to the page with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from leaderboard import selectors
from leaderboard.errors import ClassroomRefused
from leaderboard.models import Edition, EditionRole
from leaderboard.people_forms import RoleAddForm, RoleSetForm, RosterUploadForm
from leaderboard.selectors.people import edition_roles, roster_summary
from leaderboard.selectors.permissions import can_host, can_moderate
from leaderboard.services import people


@login_required
@require_GET
def edition_people(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    return _page(request, edition=found)


@login_required
@require_POST
def role_add(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    form = RoleAddForm(request.POST)
    if not form.is_valid():
        return _page(request, edition=found, role_form=form, status=400)
    try:
        row = people.role_add(edition=found, by=request.user, **form.cleaned_data)
    except ClassroomRefused as exc:
        form.add_error("who", exc.message)
        return _page(request, edition=found, role_form=form, status=400)
    label = row.get_role_display().lower()
    if row.pending:
        messages.success(
            request,
            f"Invitation mailed to {row.email}: they become {label} when they open its link "
            "and accept while signed in.",
        )
    else:
        messages.success(request, f"{row.user.get_username()} is now {label}.")
    return redirect(_people_url(found))


@login_required
@require_POST
def role_set(request: HttpRequest, slug: str, edition: str, pk: int) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    form = RoleSetForm(request.POST)
    if form.is_valid():
        role = form.cleaned_data["role"]
        changed = _attempt(
            request,
            lambda: people.role_set(edition=found, by=request.user, role_id=pk, role=role),
        )
        if changed:
            messages.success(request, f"Role changed to {EditionRole.Role(role).label.lower()}.")
    else:
        messages.error(request, "Choose host or teaching assistant.")
    return redirect(_people_url(found))


@login_required
@require_POST
def role_invite_again(request: HttpRequest, slug: str, edition: str, pk: int) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    if _attempt(
        request, lambda: people.role_invite_again(edition=found, by=request.user, role_id=pk)
    ):
        messages.success(request, "Mailed again with a new link; the old link no longer works.")
    return redirect(_people_url(found))


@login_required
@require_POST
def role_remove(request: HttpRequest, slug: str, edition: str, pk: int) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    if _attempt(request, lambda: people.role_remove(edition=found, by=request.user, role_id=pk)):
        messages.success(request, "Removed.")
        if not can_moderate(user=request.user, edition=found):
            return redirect(found.get_absolute_url())  # they removed themselves
    return redirect(_people_url(found))


@login_required
@require_POST
def roster_upload(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    form = RosterUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, edition=found, roster_form=form, status=400)
    upload = form.cleaned_data["file"]
    try:
        done = people.roster_import(
            edition=found,
            by=request.user,
            data=upload.read(people.roster.MAX_BYTES + 1),
            invite=form.cleaned_data["invite"],
        )
    except people.RosterRefused as exc:
        context = {"roster_problems": exc.problems, "roster_file": upload.name}
        return _page(request, edition=found, roster_form=form, status=400, **context)
    messages.success(
        request,
        f"Roster imported: {done.created} added, {done.updated} updated, {done.unchanged} "
        f"unchanged; {done.invited} invitation{'s' if done.invited != 1 else ''} mailed.",
    )
    return redirect(_people_url(found))


@login_required
@require_POST
def roster_invite(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    """``entry`` (one row) or nothing: everyone who has not joined yet."""
    found = _hosted(request, slug=slug, edition=edition)
    entry = request.POST.get("entry", "")
    ids = [int(entry)] if entry.isdigit() else None
    n = people.roster_invite(edition=found, by=request.user, entry_ids=ids)
    messages.success(
        request,
        f"{n} invitation{'s' if n != 1 else ''} mailed again, each with a new link; "
        "the old links no longer work.",
    )
    return redirect(_people_url(found))


@login_required
@require_POST
def roster_teams(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    n = people.roster_teams_make(edition=found, by=request.user)
    messages.success(
        request,
        f"{n} student{'s' if n != 1 else ''} placed in a team. Students who have not accepted "
        "their invitation yet get theirs when you press again after they do.",
    )
    return redirect(_people_url(found))


@login_required
@require_POST
def roster_remove(request: HttpRequest, slug: str, edition: str, pk: int) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    people.roster_remove(edition=found, by=request.user, entry_id=pk)
    messages.success(request, "Taken off the roster (their account and team stay).")
    return redirect(_people_url(found))


def _page(
    request: HttpRequest,
    *,
    edition: Edition,
    role_form: RoleAddForm | None = None,
    roster_form: RosterUploadForm | None = None,
    status: int = 200,
    **extra,
) -> HttpResponse:
    context = {
        "edition": edition,
        "roles": edition_roles(edition=edition),
        "role_choices": EditionRole.Role.choices,
        "role_form": role_form or RoleAddForm(),
        "roster_form": roster_form or RosterUploadForm(),
        "roster": roster_summary(edition=edition),
        "join_url": (
            request.build_absolute_uri(reverse("join_link", kwargs={"code": edition.join_code}))
            if edition.join_code
            else ""
        ),
        **extra,
    }
    return render(request, "leaderboard/host_people.html", context, status=status)


def _attempt(request: HttpRequest, action) -> bool:
    try:
        action()
    except ClassroomRefused as exc:
        messages.error(request, exc.message)
        return False
    return True


def _hosted(request: HttpRequest, *, slug: str, edition: str) -> Edition:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    if can_host(user=request.user, edition=found):
        return found
    if can_moderate(user=request.user, edition=found):
        raise PermissionDenied("Only the edition's hosts manage its people.")
    raise Http404("No such page.")


def _people_url(edition: Edition) -> str:
    return reverse(
        "edition_people", kwargs={"slug": edition.challenge.slug, "edition": edition.slug}
    )
