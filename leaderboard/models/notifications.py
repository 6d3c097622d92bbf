"""What the site tells its users: notifications (in-site and by e-mail), each user's choice of
e-mail, hosts' announcements, and the markers that make an edition's dated mail go once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .challenges import Edition


class Kind(models.TextChoices):
    """Each kind of message; a user may turn off the e-mail of each (the in-site list stays)."""

    SUBMISSION = "submission", "A submission of mine is scored or fails"
    INVITATION = "invitation", "I am invited to a team"
    EDITION_OPENING = "edition_opening", "An edition I take part in opens"
    EDITION_CLOSING = "edition_closing", "An edition I take part in closes in 24 hours"
    ANNOUNCEMENT = "announcement", "A host sends an announcement"


class Notification(models.Model):
    """One message to one user: listed on the site, and mailed unless the user turned it off."""

    class Mail(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        OFF = "off", "Not sent: turned off or no address"
        FAILED = "failed", "Not sent: every attempt failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Names the event (``submission:<id>:<attempt>``): a task delivered twice adds no second row.
    key = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    body = models.TextField()  # plain text, shown on the site and as the mail's text part
    url = models.CharField(max_length=500, blank=True)  # a path on this site
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, null=True, blank=True)
    announcement = models.ForeignKey(
        "Announcement", on_delete=models.CASCADE, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    mail = models.CharField(max_length=10, choices=Mail.choices, default=Mail.PENDING)
    mailed_at = models.DateTimeField(null=True, blank=True)
    # When a mail task was last put on the queue for this row; empty while none is (the broker
    # was down). The sweep re-queues rows pending too long (``services.sweep``).
    mail_queued_at = models.DateTimeField(null=True, blank=True)
    mail_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_event"),
        ]
        indexes = [
            models.Index(
                fields=["user"], condition=models.Q(read_at=None), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.user}"


class NotificationPreference(models.Model):
    """A user's choice for one kind of e-mail; no row means the e-mail is on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="preference_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} e-mail {'on' if self.email else 'off'}"


class Announcement(models.Model):
    """A host's message (Markdown) to an edition's participants, shown on its page and mailed."""

    class Audience(models.TextChoices):
        ALL = "all", "Everyone taking part"
        NOT_SUBMITTED = "not_submitted", "Only those whose team has not submitted yet"

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="announcements")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.ALL)
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    created_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)  # filled in when the task has run

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class EditionNotice(models.Model):
    """Marks that an edition's opening (or closing-soon) notice went out: it goes once."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["edition", "kind"], name="edition_notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.edition}"
