"""Notifications: a user's list and e-mail choices, the one-click unsubscribe link (no login:
its signed token is the permission), and a host's announcements to an edition."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from leaderboard import selectors, services
from leaderboard.errors import ClassroomRefused
from leaderboard.models.notifications import Kind
from leaderboard.notification_forms import AnnouncementForm, PreferencesForm
from leaderboard.selectors import notifications as reads
from leaderboard.selectors.permissions import can_host
from leaderboard.services.notifications import UnsubscribeRefused


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The newest notifications; the unread ones are marked new, and read from now on."""
    rows = reads.notifications_for_user(user=request.user)
    services.notifications_mark_read(user=request.user, ids=[n.pk for n in rows if not n.read_at])
    return render(request, "leaderboard/notifications/list.html", {"notifications": rows})


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    choices = reads.notification_choices(user=request.user)
    initial = {"email": [c.kind for c in choices if c.email]}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.preferences_save(user=request.user, email_kinds=set(form.cleaned_data["email"]))
        messages.success(request, "Your e-mail choices are saved.")
        return redirect("notification_settings")
    context = {"form": form, "email": request.user.email}
    return render(request, "leaderboard/notifications/settings.html", context)


@csrf_exempt  # mail clients POST here (RFC 8058 one-click); the signed token is the permission
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One click turns the kind off; the page offers to undo it. No login needed."""
    undo = request.method == "POST" and request.POST.get("action") == "resubscribe"
    try:
        user, kind = services.unsubscribe_apply(token=token, email=undo)
    except UnsubscribeRefused as exc:
        context = {"error": str(exc)}
        return render(request, "leaderboard/notifications/unsubscribe.html", context, status=400)
    context = {"subscribed": undo, "kind_label": Kind(kind).label, "user_name": user.get_username()}
    return render(request, "leaderboard/notifications/unsubscribe.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def announcements(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    """The host writes an announcement (Markdown) to everyone or those yet to submit."""
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    if not can_host(user=request.user, edition=found):
        raise Http404("No such page.")
    form = AnnouncementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.announcement_create(
                edition=found,
                author=request.user,
                subject=data["subject"],
                body=data["body"],
                audience=data["audience"],
            )
        except ClassroomRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Announcement posted; the e-mails are on their way.")
            url = reverse("announcements", kwargs={"slug": slug, "edition": edition})
            return redirect(url)
    context = {
        "edition": found,
        "form": form,
        "announcements": reads.edition_announcements(edition=found, user=request.user, limit=50),
    }
    return render(request, "leaderboard/notifications/announcements.html", context)
