"""``/favicon.ico``: browsers ask for it at the root whatever the page links, so it is served
here (the pages link the SVG in ``static/leaderboard``) instead of answering 404."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

ICON = "leaderboard/favicon.ico"


@require_safe
@cache_control(public=True, max_age=86_400)
def favicon(request: HttpRequest) -> FileResponse:
    path = finders.find(ICON)
    if not path:
        raise Http404("no favicon")
    return FileResponse(open(path, "rb"), content_type="image/x-icon")
