"""Notifications: the rows each event makes, the mail each row sends (Django's locmem backend,
the framework's own test backend), choices and unsubscribe links, the dated edition notices,
announcements, the menu's unread count, and the scoring hook that only enqueues."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
import redis
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leaderboard import services
from leaderboard.celery import app as celery_app
from leaderboard.models import (
    Announcement,
    EditionNotice,
    Notification,
    Participant,
    Submission,
)
from leaderboard.models.notifications import Kind
from leaderboard.services.notifications import preference_set, unsubscribe_token

from .factories import make_challenge, make_edition, make_scored, make_team, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


def pct(fraction: float) -> str:
    """Independent of the registry: a fraction as a percentage with two decimals."""
    return f"{fraction * 100:.2f}%"


def user(name: str):
    u = make_user(name)
    u.email = f"{name}@example.org"
    u.save()
    return u


@pytest.fixture
def edition():
    return make_edition(challenge=make_challenge(primary_metric="top5"))


def send_all(ids: list[int]) -> list[str]:
    return [services.notification_mail_send(notification_id=pk) for pk in ids]


def test_a_scored_submission_tells_every_member_its_public_errors_rank_and_link(
    edition, mailoutbox, settings
):
    settings.SITE_URL = "https://arena.example.org"
    ann, bob, cy = user("ann"), user("bob"), user("cy")
    ours = make_team(edition=edition, name="ours", users=[ann, bob])
    better = make_team(edition=edition, name="better", users=[cy])
    make_scored(edition=edition, team=better, top1=0.20, top5=0.05)
    mine = make_scored(
        edition=edition, team=ours, top1=0.3125, top5=0.0975, private=(0.5, 0.4), method="r18"
    )

    ids = services.notifications_create(event="submission", ref=str(mine.pk))
    assert sorted(
        Notification.objects.filter(pk__in=ids).values_list("user__username", flat=True)
    ) == [
        "ann",
        "bob",
    ]
    assert send_all(ids) == ["sent", "sent"]
    assert sorted(m.to[0] for m in mailoutbox) == ["ann@example.org", "bob@example.org"]
    message = mailoutbox[0]
    text = message.body
    # The public part while the edition runs; never the private one before the close.
    assert pct(0.0975) in text and pct(0.3125) in text
    assert pct(0.4) not in text and pct(0.5) not in text
    assert "#2 of 2 teams" in text
    assert f"https://arena.example.org/submissions/{mine.pk}/" in text
    assert pct(0.0975) in message.subject and "r18" in message.subject
    html = message.alternatives[0][0]
    assert f"https://arena.example.org/submissions/{mine.pk}/" in html
    unsubscribe = re.search(r"one click: (\S+)", text).group(1)
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # A second delivery of the same task makes no second row and sends nothing again.
    assert services.notifications_create(event="submission", ref=str(mine.pk)) == []
    assert Notification.objects.count() == 2


def test_a_failed_submission_mail_carries_its_code_and_message(edition, mailoutbox):
    ann = user("ann")
    team = make_team(edition=edition, name="t", users=[ann])
    failed = Submission.objects.create(
        edition=edition,
        team=team,
        method_name="broken",
        status=Submission.Status.FAILED,
        attempts=1,
        error_code="wrong_output_shape",
        error_message="The model returned logits of shape (2, 7); expected (2, 4).",
        file="submissions/x",
    )
    ids = services.notifications_create(event="submission", ref=str(failed.pk))
    assert send_all(ids) == ["sent"]
    (message,) = mailoutbox
    assert "wrong_output_shape" in message.subject
    assert "wrong_output_shape" in message.body
    assert "expected (2, 4)" in message.body


def test_a_queued_submission_or_a_baseline_tells_no_one(edition):
    ann = user("ann")
    team = make_team(edition=edition, name="t", users=[ann])
    queued = Submission.objects.create(edition=edition, team=team, file="submissions/x")
    baseline = make_scored(edition=edition, team=None, top1=0.3, top5=0.1, baseline=True)
    assert services.notifications_create(event="submission", ref=str(queued.pk)) == []
    assert services.notifications_create(event="submission", ref=str(baseline.pk)) == []
    with pytest.raises(ValueError, match="unknown notification event 'nope'"):
        services.notifications_create(event="nope", ref="1")


def test_turning_a_kind_off_stops_its_mail_but_not_the_others(edition, mailoutbox):
    ann = user("ann")
    team = make_team(edition=edition, name="t", users=[ann])
    preference_set(user=ann, kind=Kind.SUBMISSION, email=False)
    scored = make_scored(edition=edition, team=team, top1=0.3, top5=0.1)
    ids = services.notifications_create(event="submission", ref=str(scored.pk))
    assert send_all(ids) == ["off"]
    assert mailoutbox == []
    assert Notification.objects.get(pk=ids[0]).mail == Notification.Mail.OFF  # still listed

    services.announcement_create(
        edition=edition, author=ann, subject="Hello", body="Hi *all*", audience="all"
    )
    announcement = Announcement.objects.get()
    ids = services.notifications_create(event="announcement", ref=str(announcement.pk))
    assert send_all(ids) == ["sent"]
    assert len(mailoutbox) == 1
    assert "<em>all</em>" in mailoutbox[0].alternatives[0][0]


def test_a_user_without_an_address_gets_the_row_and_no_mail(edition, mailoutbox):
    nomail = make_user("nomail")
    team = make_team(edition=edition, name="t", users=[nomail])
    scored = make_scored(edition=edition, team=team, top1=0.3, top5=0.1)
    ids = services.notifications_create(event="submission", ref=str(scored.pk))
    assert send_all(ids) == ["off"] and mailoutbox == []


def test_the_unsubscribe_link_works_without_login_and_refuses_a_tampered_token(edition, mailoutbox):
    ann = user("ann")
    team = make_team(edition=edition, name="t", users=[ann])
    scored = make_scored(edition=edition, team=team, top1=0.3, top5=0.1)
    send_all(services.notifications_create(event="submission", ref=str(scored.pk)))
    link = re.search(r"one click: (\S+)", mailoutbox[0].body).group(1)
    path = link.split("://", 1)[1].split("/", 1)[1]
    visitor = Client()

    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = visitor.get(reverse("notifications_unsubscribe", kwargs={"token": tampered}))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert not ann.notification_preferences.exists()
    # Another user's id in a token we did not sign is refused the same way.
    forged = unsubscribe_token(user_id=ann.pk, kind=Kind.SUBMISSION).replace(":", ":x", 1)
    assert visitor.get(f"/notifications/unsubscribe/{forged}/").status_code == 400

    response = visitor.get("/" + path)
    assert response.status_code == 200
    assert "will no longer get e-mail" in response.content.decode()
    assert ann.notification_preferences.get(kind=Kind.SUBMISSION).email is False
    # The page's undo, and the mail client's one-click POST (RFC 8058), without a CSRF token.
    visitor.post("/" + path, {"action": "resubscribe"})
    assert ann.notification_preferences.get(kind=Kind.SUBMISSION).email is True
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/" + path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert ann.notification_preferences.get(kind=Kind.SUBMISSION).email is False


def test_an_announcement_to_those_who_have_not_submitted_reaches_only_them(edition, mailoutbox):
    host = user("host")
    edition.host = host
    edition.save()
    done, waiting, solo = user("done"), user("waiting"), user("solo")
    submitted = make_team(edition=edition, name="submitted", users=[done])
    make_team(edition=edition, name="not yet", users=[waiting])
    Participant.objects.create(edition=edition, user=solo)  # joined, no team
    make_scored(edition=edition, team=submitted, top1=0.3, top5=0.1)

    client = Client()
    client.force_login(host)
    url = reverse("announcements", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})
    response = client.post(
        url,
        {"subject": "Last week", "body": "Please **submit** soon.", "audience": "not_submitted"},
    )
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    ids = services.notifications_create(event="announcement", ref=str(announcement.pk))
    send_all(ids)
    assert sorted(m.to[0] for m in mailoutbox) == ["solo@example.org", "waiting@example.org"]
    announcement.refresh_from_db()
    assert announcement.recipients == 2

    # The edition page shows it to those it went to (and the host), not to the others.
    page = edition.get_absolute_url()
    seen = Client()
    seen.force_login(waiting)
    assert "<strong>submit</strong>" in seen.get(page).content.decode()
    unseen = Client()
    unseen.force_login(done)
    assert "Last week" not in unseen.get(page).content.decode()
    assert "Last week" in client.get(page).content.decode()


def test_announcements_to_everyone_show_on_the_edition_page_and_refuse_bad_input(edition):
    host = user("host")
    edition.host = host
    edition.save()
    client = Client()
    client.force_login(host)
    url = reverse("announcements", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})
    response = client.post(url, {"subject": "", "body": "x", "audience": "all"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post(url, {"subject": "S", "body": "b", "audience": "teachers"})
    assert "Select a valid choice" in response.content.decode()
    assert not Announcement.objects.exists()
    client.post(url, {"subject": "Welcome", "body": "<script>x()</script>Hi", "audience": "all"})
    page = Client().get(edition.get_absolute_url()).content.decode()
    assert "Welcome" in page and "<script>x()" not in page
    # Only hosts may write one.
    other = Client()
    other.force_login(user("student"))
    assert other.get(url).status_code == 404
    assert other.post(url, {"subject": "S", "body": "b", "audience": "all"}).status_code == 404
    host_page = client.get(
        reverse("edition_host", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})
    )
    assert url in host_page.content.decode()


def test_an_invitation_tells_the_invitee(edition, mailoutbox, django_capture_on_commit_callbacks):
    ann = user("ann")
    user("bob")
    team = services.team_create(edition=edition, user=ann, name="duo")
    edition.max_team_size = 2
    edition.save()
    with django_capture_on_commit_callbacks() as callbacks:
        invitation = services.team_invite(team=team, by=ann, username="bob")
    assert len(callbacks) == 1  # the hook only queues, after the commit
    ids = services.notifications_create(event="invitation", ref=str(invitation.pk))
    send_all(ids)
    (message,) = mailoutbox
    assert message.to == ["bob@example.org"]
    assert "ann invites you to team duo" in message.subject
    assert f"/c/{edition.challenge.slug}/{edition.slug}/team/" in message.body


def test_opening_and_closing_notices_go_once_however_often_the_task_runs(edition, mailoutbox):
    now = timezone.now()
    edition.opens_at = now - dt.timedelta(minutes=5)
    edition.closes_at = now + dt.timedelta(hours=30)
    edition.save()
    ann, bob = user("ann"), user("bob")
    make_team(edition=edition, name="t", users=[ann])
    Participant.objects.create(edition=edition, user=bob)
    old = make_edition(challenge=edition.challenge, year=2019)
    old.opens_at = now - dt.timedelta(hours=25)  # opened over a day ago: no "now open" mail
    old.save()
    make_team(edition=old, name="o", users=[user("olga")])

    first = services.edition_notices_create(now=now)
    assert services.edition_notices_create(now=now) == []
    send_all(first)
    assert sorted(m.to[0] for m in mailoutbox) == ["ann@example.org", "bob@example.org"]
    assert all("is open" in m.subject for m in mailoutbox)
    assert list(EditionNotice.objects.values_list("edition", "kind", "recipients")) == [
        (edition.pk, Kind.EDITION_OPENING, 2)
    ]

    later = edition.closes_at - dt.timedelta(hours=23)
    closing = services.edition_notices_create(now=later)
    assert services.edition_notices_create(now=later + dt.timedelta(minutes=1)) == []
    send_all(closing)
    closing_mail = [m for m in mailoutbox if "closes in 24 hours" in m.subject]
    assert sorted(m.to[0] for m in closing_mail) == ["ann@example.org", "bob@example.org"]
    assert EditionNotice.objects.count() == 2
    assert services.edition_notices_create(now=edition.closes_at + dt.timedelta(minutes=1)) == []


def test_the_menu_counts_unread_notifications_until_the_list_is_opened(edition):
    ann = user("ann")
    team = make_team(edition=edition, name="t", users=[ann])
    for top5 in (0.1, 0.2):
        scored = make_scored(edition=edition, team=team, top1=0.3, top5=top5)
        services.notifications_create(event="submission", ref=str(scored.pk))
    client = Client()
    client.force_login(ann)
    home = client.get("/").content.decode()
    assert re.search(r'id="unread-count">2<', home)
    listing = client.get(reverse("notifications")).content.decode()
    assert listing.count('class="tag new"') == 2
    assert "unread-count" not in client.get("/").content.decode()
    assert 'class="tag new"' not in client.get(reverse("notifications")).content.decode()
    assert "unread-count" not in Client().get("/").content.decode()  # visitors: no link at all


def test_the_settings_page_saves_each_kind(edition):
    ann = user("ann")
    client = Client()
    client.force_login(ann)
    url = reverse("notification_settings")
    page = client.get(url).content.decode()
    assert page.count('type="checkbox"') == len(Kind.values) and page.count("checked") == len(
        Kind.values
    )
    client.post(url, {"email": [Kind.INVITATION, Kind.ANNOUNCEMENT]})
    off = set(ann.notification_preferences.filter(email=False).values_list("kind", flat=True))
    assert off == {Kind.SUBMISSION, Kind.EDITION_OPENING, Kind.EDITION_CLOSING}
    assert Client().get(url).status_code == 302  # log in first


@pytest.fixture
def notifications_queue(settings):
    """A queue of this test's own on the test broker; its messages are read back."""
    name = f"notify-{uuid.uuid4().hex[:10]}"
    settings.NOTIFICATIONS_QUEUE = name
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    yield client, name
    client.delete(name)


def running(edition) -> Submission:
    team = make_team(edition=edition, name="t", users=[user("ann")])
    return Submission.objects.create(
        edition=edition,
        team=team,
        status=Submission.Status.RUNNING,
        attempts=1,
        file="submissions/x",
    )


RESULT = {
    "n_images": 10,
    "top1_error": 0.3,
    "top5_error": 0.1,
    "public": {"n_images": 5, "top1_error": 0.2, "top5_error": 0.0},
    "private": {"n_images": 5, "top1_error": 0.4, "top5_error": 0.2},
}


def test_recording_a_score_queues_the_notification_after_the_commit(
    edition, notifications_queue, django_capture_on_commit_callbacks
):
    client, queue = notifications_queue
    submission = running(edition)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.score_record(submission_id=submission.pk, attempt=1, result=RESULT)
    (raw,) = client.lrange(queue, 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == "leaderboard.tasks.notify"
    assert message["headers"]["argsrepr"] == repr(["submission", str(submission.pk)])


def test_a_broker_outage_never_fails_the_scoring(
    edition, settings, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing there
    submission = running(edition)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.score_record(
            submission_id=submission.pk, attempt=1, error_code="bad", error_message="m"
        )
    submission.refresh_from_db()
    assert submission.status == Submission.Status.FAILED and submission.error_code == "bad"
    assert "could not queue leaderboard.tasks.notify" in caplog.text
