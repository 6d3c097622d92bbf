"""Who runs an edition with its host (co-hosts, teaching assistants) and who is expected in it
(the roster a host uploads). Rules about what each role may do live in
``selectors.permissions``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .challenges import Edition


class EditionRole(models.Model):
    """One person's role in one edition; ``user`` is empty while an invitation by e-mail waits
    for someone to open its signed claim link while signed in (then ``user`` is set)."""

    class Role(models.TextChoices):
        HOST = "host", "Host"
        TA = "ta", "Teaching assistant"

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="edition_roles",
    )
    email = models.EmailField(blank=True, help_text="Whom a pending invitation waits for.")
    role = models.CharField(max_length=8, choices=Role.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The invitation's claim link is signed over this nonce: a new invitation draws a new one,
    # so the old link stops working. Claimed: ``user`` set, ``claimed_at`` when.
    claim_nonce = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["edition", "role", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "user"],
                condition=models.Q(user__isnull=False),
                name="edition_role_once_per_user",
            ),
            models.UniqueConstraint(
                "edition",
                Lower("email"),
                condition=models.Q(user__isnull=True),
                name="edition_role_once_per_pending_email",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(email=""),
                name="edition_role_user_or_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} of {self.edition}: {self.user or self.email}"

    @property
    def pending(self) -> bool:
        return self.user_id is None


class RosterEntry(models.Model):
    """A student the host expects: one row of the uploaded roster, keyed by e-mail (case-blind),
    so that uploading the file again updates the row."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="roster")
    email = models.EmailField()
    name = models.CharField(max_length=200)
    team_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    invited_at = models.DateTimeField(null=True, blank=True)  # the latest invitation queued
    invitations = models.PositiveSmallIntegerField(default=0)
    # The student is the account that opened this row's claim link (signed over ``claim_nonce``,
    # renewed at each invitation); never an account found by its e-mail address.
    claim_nonce = models.CharField(max_length=32, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="roster_entries",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["edition", "name", "email"]
        constraints = [
            models.UniqueConstraint("edition", Lower("email"), name="roster_entry_once_per_email"),
            models.UniqueConstraint(
                fields=["edition", "user"],
                condition=models.Q(user__isnull=False),
                name="roster_entry_once_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> in {self.edition}"
