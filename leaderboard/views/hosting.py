"""Hosting from the browser: create a challenge with its sets, then watch their imports.

Uploads are streamed to disk under a size cap (``DATASET_UPLOAD_MAX_BYTES``) that is checked
against the declared length before the body is read, so the capped handler is installed before
anything reads the request, and CSRF is checked right after (as in ``views.submit``).
A user who may not host is told so and whom to ask (403), not shown a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET

from leaderboard import services
from leaderboard.evaluation.datasets import InputSpec
from leaderboard.hosting_forms import PRESETS, ChallengeCreateForm, DatasetUploadForm
from leaderboard.models import Challenge, DatasetImport
from leaderboard.selectors.hosting import (
    challenge_can_create,
    challenge_can_host,
    latest_imports,
)
from leaderboard.selectors.hosting import (
    import_progress as progress_of,
)
from leaderboard.uploads import CappedUploadHandler

CANNOT_HOST = (
    "Your account may not host challenges yet. Ask a site administrator to give it the "
    "“Can add challenge” permission (Django admin → Users → your account), or to turn on "
    "HOSTS_SELF_SERVE."
)


def _capped(request: HttpRequest) -> CappedUploadHandler | None:
    if request.method != "POST":
        return None
    handler = CappedUploadHandler(request, max_bytes=settings.DATASET_UPLOAD_MAX_BYTES)
    request.upload_handlers = [handler]
    return handler


def _too_large() -> str:
    return (
        f"The upload is larger than this site's limit of "
        f"{settings.DATASET_UPLOAD_MAX_BYTES / 2**30:.1f} GiB (both files together)."
    )


@login_required
@csrf_exempt
def challenge_create(request: HttpRequest) -> HttpResponse:
    if not challenge_can_create(user=request.user):
        return render(
            request, "leaderboard/host_forbidden.html", {"message": CANNOT_HOST}, status=403
        )
    return _challenge_create(request, handler=_capped(request))


@csrf_protect
def _challenge_create(request: HttpRequest, *, handler: CappedUploadHandler | None) -> HttpResponse:
    form = ChallengeCreateForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    status = 200
    if handler is not None and handler.exceeded:
        form.is_valid()
        form.add_error("test_set", _too_large())
        status = 413
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        challenge = services.challenge_create_hosted(
            user=request.user,
            title=data["title"],
            slug=data["slug"],
            description=data["description"],
            spec=InputSpec(
                channels=data["channels"],
                height=data["height"],
                width=data["width"],
                mean=data["mean"],
                std=data["std"],
                resize_short=data["resize_short"],
            ),
            public_fraction=data["public_fraction"],
            seed=data["seed"],
            primary_metric=data["primary_metric"],
            robustness=data["robustness"],
            year=data["year"],
            closes_at=data["closes_at"],
            class_names=data["class_names"],
            test_set=data["test_set"],
            train_set=data["train_set"],
        )
        messages.success(request, "Challenge created. Its sets are being imported below.")
        return redirect("challenge_data", slug=challenge.slug)
    elif request.method == "POST":
        status = 400
    context = {"form": form, "presets": PRESETS, "max_gib": _max_gib()}
    return render(request, "leaderboard/host_challenge_form.html", context, status=status)


def _max_gib() -> str:
    return f"{settings.DATASET_UPLOAD_MAX_BYTES / 2**30:.1f}"


def _hosted(request: HttpRequest, slug: str) -> Challenge:
    challenge = get_object_or_404(Challenge, slug=slug)
    if not challenge_can_host(challenge=challenge, user=request.user):
        raise PermissionDenied("Only the challenge's hosts and the staff see its data.")
    return challenge


@login_required
@require_GET
def challenge_data(request: HttpRequest, slug: str) -> HttpResponse:
    """The hosts' view of the sets: each import's progress, counts and strip, and re-upload."""
    challenge = _hosted(request, slug)
    latest = latest_imports(challenge=challenge)
    context = {
        "challenge": challenge,
        "imports": [row for row in latest.values() if row is not None],
        "progress": {str(r.id): progress_of(r) for r in latest.values() if r is not None},
        "upload_form": DatasetUploadForm(),
        "edition": challenge.editions.order_by("-year").first(),
        "max_gib": _max_gib(),
    }
    return render(request, "leaderboard/host_challenge_data.html", context)


@login_required
@csrf_exempt
def dataset_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload a set again (after a failed import, or to replace one)."""
    if request.method != "POST":
        raise Http404("Upload with the form on the data page.")
    return _dataset_upload(request, slug=slug, handler=_capped(request))


@csrf_protect
def _dataset_upload(
    request: HttpRequest, *, slug: str, handler: CappedUploadHandler | None
) -> HttpResponse:
    challenge = _hosted(request, slug)
    form = DatasetUploadForm(request.POST, request.FILES)
    if handler is not None and handler.exceeded:
        messages.error(request, _too_large())
    elif form.is_valid():
        data = form.cleaned_data
        previous = challenge.imports.filter(part=DatasetImport.Part.TEST).first()
        options = dict(previous.options) if previous and data["part"] == "test" else {}
        services.dataset_upload(
            challenge=challenge,
            part=data["part"],
            upload=data["file"],
            user=request.user,
            public_fraction=float(options.get("public_fraction", 0.5)),
            seed=int(options.get("seed", 0)),
            class_names=options.get("class_names") or [],
        )
        messages.success(request, f"{data['file'].name} uploaded; the import starts shortly.")
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("challenge_data", slug=challenge.slug)


@login_required
@require_GET
def import_progress(request: HttpRequest, slug: str, pk) -> JsonResponse:
    challenge = _hosted(request, slug)
    row = get_object_or_404(DatasetImport, pk=pk, challenge=challenge)
    data = progress_of(row)
    if row.finished:
        data["report"] = {k: v for k, v in row.report.items() if k != "strip"}
    return JsonResponse(data)
