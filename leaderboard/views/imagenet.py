"""ImageNet (ILSVRC), reported: the field's published results on ImageNet, on a page of their
own, read from the shipped file and tied to no challenge (every challenge's chart shows only
results reported on its own data set)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leaderboard import charts, services


@require_GET
def imagenet_reported(request: HttpRequest) -> HttpResponse:
    rows = services.ilsvrc_history_rows()
    context = {
        "rows": sorted(rows, key=lambda r: (r.year, r.top5_error or 1.0, r.team)),
        "chart": charts.imagenet_chart(rows=rows),
        "fall": charts.largest_fall(charts.record_steps(rows, field="top5_error")),
        "first_year": min(r.year for r in rows),
        "last_year": max(r.year for r in rows),
        "any_top1": any(r.top1_error is not None for r in rows),  # the shipped file has none
    }
    return render(request, "leaderboard/imagenet_reported.html", context)
