"""The claim link mailed with an invitation (a role, or a roster row): it shows what it offers,
asks a visitor to sign up or log in and come back (``next``), and grants it on POST to the
signed-in user (a GET never changes anything). A bad link is a 400 page, one no longer good a
410 page, each saying what to do."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from leaderboard.services import people


@require_http_methods(["GET", "POST"])
def people_claim(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST" and request.user.is_authenticated:
            offer = people.claim_accept(token=token, user=request.user)
            return _accepted(request, offer)
        offer = people.claim_read(token=token)
    except people.ClaimRefused as exc:
        context = {"refused": exc}
        return render(request, "leaderboard/people_claim.html", context, status=exc.status)
    edition = offer.row.edition
    context = {
        "offer": offer,
        "edition": edition,
        "role": offer.row.get_role_display().lower() if offer.kind == "role" else "",
        "login_url": f"{reverse('login')}?next={request.path}",
        "signup_url": f"{reverse('signup')}?next={request.path}",
    }
    return render(request, "leaderboard/people_claim.html", context)


def _accepted(request: HttpRequest, offer: people.ClaimOffer) -> HttpResponse:
    edition = offer.row.edition
    kwargs = {"slug": edition.challenge.slug, "edition": edition.slug}
    if offer.kind == "role":
        messages.success(
            request, f"You are now {offer.row.get_role_display().lower()} of {edition}."
        )
        return redirect(reverse("edition_host", kwargs=kwargs))
    messages.success(request, f"You have joined {edition.display_name} as {offer.row.name}.")
    return redirect(reverse("team", kwargs=kwargs))
