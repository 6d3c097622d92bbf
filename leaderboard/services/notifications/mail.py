"""One notification's e-mail: rendered from templates, sent through Django's mail framework
(whatever EMAIL_URL configures), with a one-click unsubscribe link in the text and in the
List-Unsubscribe headers (RFC 2369, RFC 8058)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from leaderboard.models import Notification, NotificationPreference
from leaderboard.rich_text import markdown_html

from .events import site_url
from .preferences import unsubscribe_token

logger = logging.getLogger(__name__)
Mail = Notification.Mail


def notification_message(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail for one row: text and HTML parts, the link, the unsubscribe link."""
    unsubscribe = site_url(
        reverse(
            "notifications_unsubscribe",
            kwargs={
                "token": unsubscribe_token(user_id=notification.user_id, kind=notification.kind)
            },
        )
    )
    context = {
        "notification": notification,
        "link": site_url(notification.url) if notification.url else "",
        "unsubscribe_url": unsubscribe,
        "settings_url": site_url(reverse("notification_settings")),
        "kind_label": notification.get_kind_display(),
        "announcement_html": (
            markdown_html(notification.announcement.body) if notification.announcement else ""
        ),
    }
    message = EmailMultiAlternatives(
        subject=f"[Arena] {notification.subject}",
        body=render_to_string("leaderboard/emails/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string("leaderboard/emails/notification.html", context), "text/html"
    )
    return message


def notification_mail_send(*, notification_id: int) -> str:
    """Send one row's mail: "sent", "off" (turned off, or no address) or "skipped" (gone or
    done already). A failure to send raises (the task retries it) and is logged."""
    notification = (
        Notification.objects.select_related("user", "announcement")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.mail != Mail.PENDING:
        return "skipped"
    user = notification.user
    turned_off = NotificationPreference.objects.filter(
        user=user, kind=notification.kind, email=False
    ).exists()
    if turned_off or not user.email or not user.is_active:
        Notification.objects.filter(pk=notification.pk, mail=Mail.PENDING).update(mail=Mail.OFF)
        return "off"
    try:
        notification_message(notification).send(fail_silently=False)
    except Exception as exc:
        logger.warning("mail of notification %s to %s failed: %r", notification.pk, user, exc)
        Notification.objects.filter(pk=notification.pk).update(mail_error=repr(exc)[:2000])
        raise
    Notification.objects.filter(pk=notification.pk, mail=Mail.PENDING).update(
        mail=Mail.SENT, mailed_at=timezone.now(), mail_error=""
    )
    return "sent"


def notification_mail_failed(*, notification_id: int, error: str) -> None:
    """Every attempt failed: the row says so (it stays in the user's list on the site)."""
    logger.error("giving up the mail of notification %s: %s", notification_id, error)
    Notification.objects.filter(pk=notification_id, mail=Mail.PENDING).update(
        mail=Mail.FAILED, mail_error=error[:2000]
    )
