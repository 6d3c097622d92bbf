"""The submit page: a streamed, size-capped upload handed to services.submission_create.

The upload handler depends on the edition (its size cap), so it is installed before anything
reads the request body; CSRF is checked right after, as Django's docs prescribe for this case.
https://docs.djangoproject.com/en/5.2/topics/http/file-uploads/#modifying-upload-handlers-on-the-fly
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from leaderboard import selectors, services
from leaderboard.errors import SubmissionRefused, message_for_web_form
from leaderboard.forms import SubmissionForm
from leaderboard.models import Edition
from leaderboard.selectors.checks import model_check_possible
from leaderboard.selectors.quota import quota_resets_at
from leaderboard.uploads import CappedUploadHandler


@login_required
@csrf_exempt
def submission_create(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    handler = None
    if request.method == "POST":
        handler = CappedUploadHandler(request, max_bytes=found.max_upload_bytes)
        request.upload_handlers = [handler]
    return _submission_create(request, edition=found, handler=handler)


@csrf_protect
def _submission_create(
    request: HttpRequest, *, edition: Edition, handler: CappedUploadHandler | None
) -> HttpResponse:
    wants_json = "application/json" in request.headers.get("Accept", "")
    if request.method != "POST":
        return _render(request, edition=edition, form=SubmissionForm())
    form = SubmissionForm(request.POST, request.FILES)
    if handler is not None and handler.exceeded:
        form.is_valid()
        form.add_error(
            "file", f"The file is larger than this edition's limit of {edition.max_upload_mb} MB."
        )
        return _refused(request, edition=edition, form=form, status=413, as_json=wants_json)
    if not form.is_valid():
        return _refused(request, edition=edition, form=form, status=400, as_json=wants_json)
    try:
        submission = services.submission_create(
            edition=edition,
            user=request.user,
            upload=form.cleaned_data["file"],
            arch=form.cleaned_data["arch"],
            method_name=form.cleaned_data["method_name"],
            description=form.cleaned_data["description"],
        )
    except SubmissionRefused as exc:
        form.add_error(FIELD_OF_ERROR.get(exc.code), message_for_web_form(exc.message))
        return _refused(request, edition=edition, form=form, status=400, as_json=wants_json)
    if wants_json:
        return JsonResponse({"id": str(submission.pk), "redirect": reverse("my_submissions")})
    return redirect("my_submissions")


# Refusals that are about the file itself, shown next to the file field.
FILE_ERRORS = {"file_too_large", "empty_file", "unsupported_format", "pickle_refused"}
FIELD_OF_ERROR = {**dict.fromkeys(FILE_ERRORS, "file"), "arch_required": "arch"}


def _refused(
    request: HttpRequest, *, edition: Edition, form: SubmissionForm, status: int, as_json: bool
) -> HttpResponse:
    if as_json:
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        return JsonResponse({"errors": errors}, status=status)
    return _render(request, edition=edition, form=form, status=status)


def _render(
    request: HttpRequest, *, edition: Edition, form: SubmissionForm, status: int = 200
) -> HttpResponse:
    usage = selectors.submission_usage(edition=edition, user=request.user)
    context = {"edition": edition, "form": form, "usage": usage}
    # At 0 left, said before the upload: when the daily limit resets (none for the total).
    context["resets_at"] = quota_resets_at(edition=edition)
    context["can_check"] = model_check_possible(edition=edition)  # "Check my model (free)"
    return render(request, "leaderboard/submit.html", context, status=status)
