"""Login lockouts (django-axes): the client address counted with the account, and the page.

Behind a reverse proxy every request comes from the proxy's address, so a lockout per
username and address would become a lockout per username for everyone. With
``LOGIN_PROXY_COUNT`` trusted proxies in front, the address is the one the outermost proxy saw:
the n-th from the right of ``X-Forwarded-For``. A client can put anything at the left of that
header, not in what the proxies append.
"""

from __future__ import annotations

import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the outermost trusted proxy saw it, else ``REMOTE_ADDR``."""
    count = settings.LOGIN_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if count > 0 and len(hops) >= count and _is_address(hops[-count]):
        return hops[-count]
    return request.META.get("REMOTE_ADDR")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """429 with a page that says why and for how long (``Retry-After`` too)."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    response = render(request, "registration/lockout.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def login_name(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The account a login attempt names, however it was typed: the login form takes a username
    or an e-mail address, and both count against the one account (so five tries by name and
    five by address are ten, not two times five). An unknown name counts as typed, lower-cased.
    """
    typed = ""
    for key in ("username", "email", "login"):
        typed = (credentials or {}).get(key) or ""
        if typed:
            break
    if not typed:
        data = getattr(request, "data", None) or request.POST
        typed = data.get("login") or data.get("username") or ""
    typed = str(typed).strip()
    if not typed:
        return None
    return _account_name(typed) or typed.lower()


def _account_name(typed: str) -> str | None:
    """The username of the account ``typed`` names (case-blind), or None."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    user = users.filter(username=typed).first()
    user = user or users.filter(username__iexact=typed).order_by("pk").first()
    if user is None and "@" in typed:
        address = EmailAddress.objects.filter(email__iexact=typed).select_related("user")
        found = address.order_by("-verified", "-primary", "pk").first()
        user = found.user if found else users.filter(email__iexact=typed).order_by("pk").first()
    return user.get_username() if user else None
