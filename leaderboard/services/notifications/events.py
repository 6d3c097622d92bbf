"""Who is told what, for each event: one Notification row per recipient, made once.

Each event has a key (``submission:<id>:<attempt>:<status>``...) that is unique per user, so a
task delivered twice adds nothing; the ids returned are the rows whose mail is still to go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from leaderboard.metrics import metric_get, metrics_shown
from leaderboard.models import (
    Announcement,
    Edition,
    Membership,
    Notification,
    Participant,
    Submission,
    TeamInvitation,
)
from leaderboard.models.notifications import Kind
from leaderboard.selectors.leaderboard import leaderboard_rows
from leaderboard.selectors.visibility import submission_shown

Status = Submission.Status


def notifications_create(*, event: str, ref: str) -> list[int]:
    """The rows for ``event`` about the object ``ref``; ids of those still to be mailed."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}; known: {', '.join(EVENTS)}")
    return EVENTS[event](ref)


def site_url(path: str) -> str:
    """An absolute link for a mail: SITE_URL plus a path of this site."""
    return f"{settings.SITE_URL}{path}"


def participant_ids(*, edition: Edition) -> set[int]:
    """Everyone taking part: joined with the code, or in a team of the edition."""
    joined = Participant.objects.filter(edition=edition).values_list("user_id", flat=True)
    members = Membership.objects.filter(edition=edition).values_list("user_id", flat=True)
    return set(joined) | set(members)


def not_submitted_ids(*, edition: Edition) -> set[int]:
    """Those taking part whose team has no submission yet (or who have no team)."""
    submitted = Membership.objects.filter(
        edition=edition, team__submissions__isnull=False
    ).values_list("user_id", flat=True)
    return participant_ids(edition=edition) - set(submitted)


def rows_create(
    *,
    user_ids: Iterable[int],
    kind: str,
    key: str,
    subject: str,
    body: str,
    url: str,
    edition: Edition | None = None,
    announcement: Announcement | None = None,
) -> list[int]:
    """One row per active user (those made by an earlier delivery are kept); pending ids."""
    users = get_user_model().objects.filter(pk__in=set(user_ids), is_active=True)
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=pk,
                kind=kind,
                key=key,
                subject=subject[:200],
                body=body,
                url=url,
                edition=edition,
                announcement=announcement,
            )
            for pk in users.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    pending = Notification.objects.filter(key=key, mail=Notification.Mail.PENDING)
    return list(pending.order_by("pk").values_list("pk", flat=True))


def submission_notifications(ref: str) -> list[int]:
    """A team's submission reached scored or failed: each member is told."""
    submission = (
        Submission.objects.select_related("edition__challenge", "team", "score")
        .filter(pk=ref)
        .first()
    )
    if submission is None or submission.is_baseline or submission.team_id is None:
        return []
    if submission.status not in (Status.SCORED, Status.FAILED):
        return []  # not final (any more): a re-run took it back to the queue
    edition = submission.edition
    name = submission.method_name or "Your submission"
    status = submission.status
    rerun_failed = (
        submission.rerun_failures.filter(attempt=submission.attempts).first()
        if submission.reruns and status == Status.SCORED
        else None
    )
    if rerun_failed is not None:
        status = "rerun_failed"
        subject = f"Re-run failed: {name} ({rerun_failed.error_code}), its score stays"
        body = (
            f"The hosts of {edition.display_name} had {name} scored again, and the re-run "
            "failed. Its previous score stays current and keeps its place on the leaderboard.\n\n"
            f"Error code: {rerun_failed.error_code}\n"
            f"Message: {rerun_failed.error_message or '(none)'}"
        )
    elif status == Status.SCORED:
        subject, body = _scored_text(submission, name=name)
    else:
        subject = f"Failed: {name} ({submission.error_code}) in {edition.display_name}"
        body = (
            f"{name}, submitted to {edition.display_name}, could not be scored.\n\n"
            f"Error code: {submission.error_code}\n"
            f"Message: {submission.error_message or '(none)'}"
        )
    members = Membership.objects.filter(team_id=submission.team_id)
    return rows_create(
        user_ids=members.values_list("user_id", flat=True),
        kind=Kind.SUBMISSION,
        key=f"submission:{submission.pk}:{submission.attempts}:{status}",
        subject=subject,
        body=body,
        url=submission.get_absolute_url(),
        edition=edition,
    )


def _scored_text(submission: Submission, *, name: str) -> tuple[str, str]:
    """Errors on the part of the hidden set the edition shows now, and the team's place."""
    edition = submission.edition
    challenge = edition.challenge
    primary = metric_get(challenge.primary_metric)
    shown = submission_shown(submission=submission)
    part = "public part of the test set" if shown.phase == "public" else "private part"
    lines = [f"{name}, submitted to {edition.display_name}, is scored.", ""]
    lines += [f"Errors on the {part}:"]
    for metric in metrics_shown(challenge=challenge, first=primary):
        value = shown.errors.get(metric.field)
        if value is not None or metric == primary:  # a metric this score lacks: left out
            lines.append(f"  {metric.label}: {metric.format(value)}")
    rows = leaderboard_rows(edition=edition, phase=shown.phase, metric=primary.key)
    teams = [row for row in rows if not row.is_baseline]
    mine = next((row for row in teams if row.team_id == submission.team_id), None)
    of_teams = f"of {len(teams)} team{'s' if len(teams) != 1 else ''}"
    lines.append("")
    if mine is None:
        lines.append("It is not on the leaderboard (the host has hidden it, or it has no value).")
        rank = ""
    elif mine.pk == submission.pk:
        lines.append(f"It is your team's best entry: #{mine.position} {of_teams}.")
        rank = f", #{mine.position} of {len(teams)}"
    else:
        lines.append(
            f"Your team's best entry stays #{mine.position} {of_teams} (this one is not better)."
        )
        rank = ""
    value = primary.format(shown.errors.get(primary.field))
    subject = f"Scored: {name}, {primary.short_label} error {value}{rank}"
    return subject, "\n".join(lines)


def invitation_notifications(ref: str) -> list[int]:
    """A member invited a user to a team: the invitee is told, with the team page's link."""
    invitation = (
        TeamInvitation.objects.select_related("team__edition__challenge", "invited_by")
        .filter(pk=ref, status=TeamInvitation.Status.PENDING)
        .first()
    )
    if invitation is None:
        return []  # answered or withdrawn before the task ran
    team, edition = invitation.team, invitation.team.edition
    by = invitation.invited_by.get_username() if invitation.invited_by else "A member"
    url = reverse("team", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})
    return rows_create(
        user_ids=[invitation.user_id],
        kind=Kind.INVITATION,
        key=f"invitation:{invitation.pk}",
        subject=f"{by} invites you to team {team.name} in {edition.display_name}",
        body=(
            f"{by} invites you to join the team {team.name} in {edition.display_name}.\n\n"
            "Accept or decline on the team page."
        ),
        url=url,
        edition=edition,
    )


def announcement_notifications(ref: str) -> list[int]:
    """A host's announcement: to everyone taking part, or to those who have not submitted."""
    announcement = Announcement.objects.select_related("edition__challenge").filter(pk=ref).first()
    if announcement is None:
        return []
    edition = announcement.edition
    if announcement.audience == Announcement.Audience.NOT_SUBMITTED:
        users = not_submitted_ids(edition=edition)
    else:
        users = participant_ids(edition=edition)
    with transaction.atomic():
        ids = rows_create(
            user_ids=users,
            kind=Kind.ANNOUNCEMENT,
            key=f"announcement:{announcement.pk}",
            subject=f"{edition.display_name}: {announcement.subject}",
            body=announcement.body,
            url=edition.get_absolute_url(),
            edition=edition,
            announcement=announcement,
        )
        count = Notification.objects.filter(key=f"announcement:{announcement.pk}").count()
        Announcement.objects.filter(pk=announcement.pk).update(recipients=count)
    return ids


EVENTS: dict[str, Callable[[str], list[int]]] = {
    "submission": submission_notifications,
    "invitation": invitation_notifications,
    "announcement": announcement_notifications,
}
