"""Free model checks on the site: the submit page's "Check my model" post and the result page.

The upload goes through the submit page's size-capped handler, installed before anything reads
the body, then CSRF is checked (as in ``views.submit``). The browser's script posts with
``Accept: application/json`` and follows the returned page; without script the form posts
here and a refusal is shown back on the submit page.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from leaderboard import selectors, services
from leaderboard.errors import SubmissionRefused, message_for_web_form
from leaderboard.models import Edition
from leaderboard.selectors.checks import (
    model_check_get_visible,
    model_check_page,
    model_check_status,
)
from leaderboard.uploads import CappedUploadHandler

# Refusals about the settings of the check rather than the file: shown above the form.
FIELD_OF_ERROR = {"arch_required": "arch", "check_limit": "", "no_samples": "", "join_required": ""}


class ModelCheckForm(forms.Form):
    """The submit form's file and architecture; the method's name is not needed for a check."""

    file = forms.FileField()
    arch = forms.CharField(max_length=100, required=False)


@login_required
@csrf_exempt
@require_POST
def model_check_create(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    handler = CappedUploadHandler(request, max_bytes=found.max_upload_bytes)
    request.upload_handlers = [handler]
    return _model_check_create(request, edition=found, handler=handler)


@csrf_protect
def _model_check_create(
    request: HttpRequest, *, edition: Edition, handler: CappedUploadHandler
) -> HttpResponse:
    form = ModelCheckForm(request.POST, request.FILES)
    if handler.exceeded:
        limit = f"The file is larger than this edition's limit of {edition.max_upload_mb} MB."
        return _refused(request, edition=edition, errors={"file": [limit]}, status=413)
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return _refused(request, edition=edition, errors=errors, status=400)
    try:
        check = services.model_check_create(
            edition=edition,
            user=request.user,
            upload=form.cleaned_data["file"],
            arch=form.cleaned_data["arch"],
        )
    except SubmissionRefused as exc:
        field = FIELD_OF_ERROR.get(exc.code, "file")
        status = 429 if exc.code == "check_limit" else 400
        return _refused(
            request,
            edition=edition,
            errors={field: [message_for_web_form(exc.message)]},
            status=status,
        )
    page = reverse("model_check", args=[check.pk])
    if _wants_json(request):
        return JsonResponse({"id": str(check.pk), "redirect": page}, status=201)
    return redirect(page)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refused(
    request: HttpRequest, *, edition: Edition, errors: dict[str, list[str]], status: int
) -> HttpResponse:
    """JSON for the page's script; without it, the messages on the submit page."""
    if _wants_json(request):
        return JsonResponse({"errors": errors}, status=status)
    for problems in errors.values():
        for problem in problems:
            messages.error(request, f"Check refused: {problem}")
    return redirect("submit", slug=edition.challenge.slug, edition=edition.slug)


@login_required
@require_GET
def model_check_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The check's result; it updates by itself until the worker is done."""
    check = model_check_get_visible(pk=pk, user=request.user)
    context = {"check": check, "page": model_check_page(check=check)}
    return render(request, "leaderboard/model_check.html", context)


@login_required
@require_GET
def model_check_poll(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    """Polled by checks.js every second or two while the check is queued or running."""
    check = model_check_get_visible(pk=pk, user=request.user)
    return JsonResponse(model_check_status(check=check))
