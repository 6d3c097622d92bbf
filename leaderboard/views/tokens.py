"""The API token page: create (replacing the old one), see when it was made, revoke.

A new token is shown once, in the answer to the POST that made it, and never stored in the
session, a message or the database (only its digest is): reloading the page does not show it
again.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from leaderboard.api import tokens
from leaderboard.api.authentication import token_expires_at
from leaderboard.models import ApiToken


@login_required
@require_GET
def api_tokens(request: HttpRequest) -> HttpResponse:
    return _render(request, token=tokens.token_get(user=request.user))


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    issued = tokens.token_create(user=request.user)
    response = _render(request, token=issued.token, new_key=issued.key)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest) -> HttpResponse:
    if tokens.token_revoke(user=request.user):
        messages.success(request, "Token revoked: programs using it can no longer sign in.")
    return redirect("api_tokens")


def _render(
    request: HttpRequest, *, token: ApiToken | None, new_key: str | None = None
) -> HttpResponse:
    context = {
        "token": token,
        "expires_at": token_expires_at(token=token) if token is not None else None,
        "new_key": new_key,
        "server": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "leaderboard/tokens.html", context)
