"""The instructor's side: create an edition, run it (code, roster, moderation), export CSV.

Every view here checks ``selectors.permissions`` (the dashboard, moderation and exports: hosts
and teaching assistants; settings and the join code: hosts only, 403 for an assistant) and
answers 404 to anyone else, so the pages do not reveal which editions exist. Creating an edition
reveals nothing, so a user who may not create one is told why and whom to ask (403).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leaderboard import selectors, services
from leaderboard.classroom_forms import EditionForm, ModerationForm
from leaderboard.csv_cells import DictWriter
from leaderboard.errors import ClassroomRefused
from leaderboard.models import Challenge, Edition, Submission
from leaderboard.selectors.exports import (
    SUBMISSION_COLUMNS,
    export_standings,
    export_submissions,
    standings_columns,
)
from leaderboard.selectors.permissions import can_host, can_moderate
from leaderboard.services.editions import EDITABLE
from leaderboard.views import host_control

ENTRIES_PER_PAGE = 50
CANNOT_CREATE_EDITION = (
    "Your account may not create editions yet. Ask a site administrator to give it the "
    "“Can add edition” permission (Django admin → Users → your account)."
)


@login_required
@require_http_methods(["GET", "POST"])
def edition_create(request: HttpRequest) -> HttpResponse:
    if not selectors.edition_can_create(user=request.user):
        return render(
            request,
            "leaderboard/host_forbidden.html",
            {"message": CANNOT_CREATE_EDITION},
            status=403,
        )
    initial = {"year": timezone.now().year, "time_zone": timezone.get_current_timezone_name()}
    if slug := request.GET.get("challenge"):
        initial["challenge"] = Challenge.objects.filter(slug=slug).first()
    form = EditionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            edition = services.edition_create(
                host=request.user, **{key: data[key] for key in form.Meta.fields}
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Edition created. Share the code or the invite link.")
            return redirect(_host_url(edition))
    return render(request, "leaderboard/host_edition_form.html", {"form": form, "edition": None})


@login_required
@require_http_methods(["GET", "POST"])
def edition_settings(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition, may=can_host)
    form = EditionForm(request.POST or None, instance=found, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.edition_update(
                edition=found, changes={key: form.cleaned_data[key] for key in EDITABLE}
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return redirect(_host_url(found))
    return render(request, "leaderboard/host_edition_form.html", {"form": form, "edition": found})


@login_required
@require_GET
def edition_host(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    """The host's dashboard: invite code and link, roster, the private ranking so far, entries."""
    found = _hosted(request, slug=slug, edition=edition)
    entries = Paginator(selectors.host_submissions(edition=found), ENTRIES_PER_PAGE)
    page = entries.get_page(request.GET.get("page"))
    invite = reverse("join_link", kwargs={"code": found.join_code}) if found.join_code else ""
    context = {
        "edition": found,
        "invite_url": request.build_absolute_uri(invite) if invite else "",
        "teams": selectors.host_teams(edition=found),
        "loners": selectors.host_participants_without_team(edition=found),
        "private_board": selectors.edition_leaderboard(edition=found, phase="private"),
        "entries": page,
        "moderation_choices": Submission.Moderation.choices,
        "closed": found.is_closed(),
        **host_control.host_page_context(edition=found),
    }
    return render(request, "leaderboard/host_edition.html", context)


@login_required
@require_POST
def join_code_renew(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition, may=can_host)
    code = services.edition_join_code_renew(edition=found)
    messages.success(request, f"New join code {code}; the old code and link no longer work.")
    return redirect(_host_url(found))


@login_required
@require_POST
def entry_moderate(request: HttpRequest, slug: str, edition: str, pk: uuid.UUID) -> HttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    submission = get_object_or_404(
        Submission.objects.select_related("edition"), pk=pk, edition=found
    )
    form = ModerationForm(request.POST)
    if form.is_valid():
        try:
            services.submission_moderate(
                submission=submission,
                by=request.user,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
            )
        except ClassroomRefused as exc:
            messages.error(request, exc.message)
        else:
            label = submission.get_moderation_display().lower()
            messages.success(request, f"{submission.method_name}: moderation set to {label}.")
    back = request.POST.get("next", "")
    return redirect(
        back if back.startswith("/") and not back.startswith("//") else _host_url(found)
    )


@login_required
@require_GET
def standings_csv(request: HttpRequest, slug: str, edition: str) -> StreamingHttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    rows = export_standings(edition=found)
    columns = standings_columns(edition=found)
    return _csv(rows, columns=columns, name=f"{slug}-{found.slug}-standings.csv")


@login_required
@require_GET
def submissions_csv(request: HttpRequest, slug: str, edition: str) -> StreamingHttpResponse:
    found = _hosted(request, slug=slug, edition=edition)
    rows = export_submissions(edition=found)
    return _csv(rows, columns=SUBMISSION_COLUMNS, name=f"{slug}-{found.slug}-submissions.csv")


def _hosted(
    request: HttpRequest, *, slug: str, edition: str, may: Callable[..., bool] = can_moderate
) -> Edition:
    """The edition, if ``may(user=, edition=)`` lets the user in; 403 for an assistant on a
    host's page, 404 for anyone else."""
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    if not may(user=request.user, edition=found):
        if can_moderate(user=request.user, edition=found):
            raise PermissionDenied("Only the edition's hosts may do this.")
        raise Http404("No such page.")
    return found


def _host_url(edition: Edition) -> str:
    return reverse("edition_host", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})


def _add_errors(form: EditionForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(rows: Iterable[dict], *, columns: list[str], name: str) -> StreamingHttpResponse:
    """Stream the rows as CSV (a large class's submissions never sit in memory at once)."""

    def lines() -> Iterator[str]:
        writer = DictWriter(_Echo(), fieldnames=columns, extrasaction="ignore")
        yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
        yield writer.writeheader()
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
