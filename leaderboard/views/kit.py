"""The starting kit's downloads: class names, the training set and the example model.

Each view names what it serves through ``selectors.kit``; none takes a path or an import's id
from the request, so no URL here can reach the hidden test set's upload or compiled files.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from leaderboard.models import Challenge
from leaderboard.selectors.kit import class_names_text, kit_example, kit_training_file


@require_GET
def class_names(request: HttpRequest, slug: str) -> HttpResponse:
    """classes.txt: one class name a line, in index order."""
    challenge = get_object_or_404(Challenge.objects.only("slug", "class_names"), slug=slug)
    if not challenge.class_names:
        raise Http404("This challenge has no classes yet.")
    response = HttpResponse(
        class_names_text(challenge=challenge), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="classes.txt"'
    return response


@require_GET
def training_set(request: HttpRequest, slug: str) -> FileResponse:
    """The newest imported training set, as the host uploaded it (public by design)."""
    challenge = get_object_or_404(Challenge, slug=slug)
    found = kit_training_file(challenge=challenge)
    if found is None:
        raise Http404("The host has not given a training set.")
    return FileResponse(found.path.open("rb"), as_attachment=True, filename=found.name)


@require_GET
def example_model(request: HttpRequest, slug: str) -> FileResponse:
    """A baseline entry as one ONNX file (the model a student starts from)."""
    challenge = get_object_or_404(Challenge, slug=slug)
    example = kit_example(challenge=challenge)
    if example is None:
        raise Http404("This challenge has no example model yet.")
    return FileResponse(example.open(), as_attachment=True, filename=example.download_name)
