"""The host switches a baseline on or off for the edition (the panel is on the host page)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from leaderboard import selectors, services
from leaderboard.errors import ClassroomRefused
from leaderboard.models import Submission


@login_required
@require_POST
def baseline_switch(request: HttpRequest, slug: str, edition: str, pk: uuid.UUID) -> HttpResponse:
    """``shown=1`` puts the baseline back on the edition's boards, ``shown=0`` takes it off;
    anyone but the edition's hosts gets 403 (the boards show the baselines to everyone)."""
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    submission = get_object_or_404(
        Submission.objects.select_related("edition"), pk=pk, edition=found, is_baseline=True
    )
    shown = request.POST.get("shown") == "1"
    try:
        services.baseline_switch(submission=submission, by=request.user, shown=shown)
    except ClassroomRefused as exc:
        return render(
            request,
            "leaderboard/host_refused.html",
            {"message": exc.message, "edition": found},
            status=403,
        )
    state = "back on" if shown else "off"
    messages.success(request, f"{submission.method_name} is {state} this edition's leaderboard.")
    host = reverse("edition_host", kwargs={"slug": slug, "edition": found.slug})
    return redirect(f"{host}#baselines")
