"""The People page's mail through a real Celery worker process: a host uploads a roster and
invites a teaching assistant by an address no account uses; the worker mails each address with
the backend EMAIL_URL gives it (files in a folder); the student's link admits them and the
assistant's sign-up claims the role."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leaderboard.models import Edition, EditionRole, Participant
from leaderboard.selectors.permissions import can_moderate

from ..factories import make_user
from .helpers import PASSWORD
from .mailbox import read_mail

pytestmark = pytest.mark.slow
SITE = "https://arena.example.org"


def test_the_worker_mails_the_roster_and_the_role_invitation(
    workers, scoring_queue, digits_edition, tmp_path, settings
):
    settings.NOTIFICATIONS_QUEUE = scoring_queue
    mail_dir = tmp_path / "mail"
    workers.start(
        "mail1",
        NOTIFICATIONS_QUEUE=scoring_queue,
        SITE_URL=SITE,
        EMAIL_URL=f"filemail://{mail_dir}",
    )
    edition = digits_edition
    Edition.objects.filter(pk=edition.pk).update(host=make_user("prof"), join_code="CLASS123")
    edition.refresh_from_db()
    host = Client()
    assert host.login(username="prof", password=PASSWORD)
    people = reverse("edition_people", args=[edition.challenge.slug, edition.slug])

    roster = b"email,name,team\nann@example.org,Ann Lee,Owls\nbob@example.org,Bob Roy,\n"
    response = host.post(
        f"{people}roster/upload/",
        {"file": SimpleUploadedFile("class.csv", roster, "text/csv"), "invite": "on"},
    )
    assert response.status_code == 302
    response = host.post(f"{people}roles/add/", {"who": "ta@example.org", "role": "ta"})
    assert response.status_code == 302

    messages = {m["To"]: m for m in read_mail(mail_dir, count=3)}
    assert set(messages) == {"ann@example.org", "bob@example.org", "ta@example.org"}
    ann = messages["ann@example.org"].get_content()
    assert messages["ann@example.org"]["Subject"] == f"[Arena] You are invited to {edition}"
    assert "Hello Ann Lee" in ann and 'team "Owls"' in ann
    (link,) = re.findall(rf"{re.escape(SITE)}(/invitation/\S+/)", ann)
    role = messages["ta@example.org"].get_content()
    assert "teaching assistant of" in role
    (role_link,) = re.findall(rf"{re.escape(SITE)}(/invitation/\S+/)", role)

    student = Client()
    make_user("ann")
    assert student.login(username="ann", password=PASSWORD)
    assert student.post(link).status_code == 302
    assert Participant.objects.filter(edition=edition, user__username="ann").exists()

    newcomer = Client()
    signed = newcomer.post(
        f"{reverse('signup')}?next={role_link}",
        {
            "username": "tia",
            "email": "TA@example.org",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )
    assert signed.status_code == 302 and signed["Location"] == role_link
    assert newcomer.post(role_link).status_code == 302  # the link, not the address, grants it
    (row,) = EditionRole.objects.filter(edition=edition, role="ta")
    assert row.user.username == "tia" and row.role == "ta"
    assert can_moderate(user=row.user, edition=edition)
