"""The host's grades page: the edition's grading rule, a preview of the grades, the CSV files.

Hosts and teaching assistants see the page and the files; only hosts set the rule
(``selectors.permissions``); anyone else signed in is told so (403).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from leaderboard import selectors
from leaderboard.csv_cells import DictWriter
from leaderboard.grading_forms import GradingRuleForm
from leaderboard.models import Edition
from leaderboard.selectors.grades import (
    CANVAS,
    LAYOUTS,
    PLAIN,
    Gradebook,
    edition_gradebook,
    grade_columns,
    grade_rows,
)
from leaderboard.selectors.permissions import can_host, can_moderate
from leaderboard.services.grading import grading_rule_set

NOT_HOST = "Only the edition's hosts see and set its grades."


@login_required
@require_http_methods(["GET", "POST"])
def edition_grades(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    if not can_moderate(user=request.user, edition=found):
        return _refused(request)
    if request.method == "POST" and not can_host(user=request.user, edition=found):
        return _refused(request)
    book = edition_gradebook(edition=found)
    form = GradingRuleForm(
        request.POST or None, edition=found, initial=GradingRuleForm.initial_for(book.rule)
    )
    if request.method == "POST" and form.is_valid():
        try:
            grading_rule_set(edition=found, by=request.user, **form.rule_fields())
        except ValidationError as exc:
            form.add_model_errors(exc)
        else:
            messages.success(request, "Grading rule saved; the preview below uses it.")
            return redirect(_grades_url(found))
    status = 400 if form.is_bound else 200
    return render(
        request,
        "leaderboard/host_grades.html",
        {
            "edition": found,
            "book": book,
            "form": form,
            "closed": found.is_closed(),
            "can_set_rule": can_host(user=request.user, edition=found),
        },
        status=status,
    )


@login_required
@require_GET
def edition_grades_csv(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    if not can_moderate(user=request.user, edition=found):
        return _refused(request)
    layout = request.GET.get("layout", PLAIN)
    if layout not in LAYOUTS:
        return HttpResponse(
            f"Unknown layout {layout!r}; choose one of: {', '.join(LAYOUTS)}.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    book = edition_gradebook(edition=found)
    if book.rule is None:
        messages.error(request, "Set a grading rule first.")
        return redirect(_grades_url(found))
    suffix = "-canvas" if layout == CANVAS else ""
    return _csv(book, layout=layout, name=f"{slug}-{found.slug}-grades{suffix}.csv")


def _refused(request: HttpRequest) -> HttpResponse:
    return render(request, "leaderboard/host_forbidden.html", {"message": NOT_HOST}, status=403)


def _grades_url(edition: Edition) -> str:
    return reverse(
        "edition_grades", kwargs={"slug": edition.challenge.slug, "edition": edition.slug}
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(book: Gradebook, *, layout: str, name: str) -> StreamingHttpResponse:
    def lines() -> Iterator[str]:
        writer = DictWriter(_Echo(), fieldnames=grade_columns(book=book, layout=layout))
        if layout != CANVAS:  # Canvas reads UTF-8 as it is; spreadsheets want the mark
            yield "\ufeff"
        yield writer.writeheader()
        for row in grade_rows(book=book, layout=layout):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
