"""The staff fleet page, and /healthz for load balancers and container health checks."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .selectors import fleet_overview


@staff_member_required
@require_GET
def fleet_page(request: HttpRequest) -> HttpResponse:
    return render(request, "leaderboard/fleet.html", {"fleet": fleet_overview()})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when this process can reach its database, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return JsonResponse({"ok": False, "error": type(exc).__name__}, status=503)
    return JsonResponse({"ok": True})
