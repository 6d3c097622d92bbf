"""The challenge page's "host" link beside an edition: its host and staff see it, nobody else
(an anonymous visitor's missing id once equalled an edition's missing host)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .factories import make_edition, make_user

pytestmark = pytest.mark.django_db


def host_link(edition) -> str:
    url = reverse("edition_host", args=[edition.challenge.slug, edition.slug])
    return f'href="{url}">host</a>'


def test_a_demo_like_edition_without_a_host_shows_no_host_link_to_visitors(client, challenge):
    edition = make_edition(challenge=challenge)  # no host, as create_demo makes it
    assert edition.host_id is None
    page = client.get(challenge.get_absolute_url()).content.decode()
    assert host_link(edition) not in page
    client.force_login(make_user("ann"))
    assert host_link(edition) not in client.get(challenge.get_absolute_url()).content.decode()


def test_the_host_and_staff_see_the_host_link(client, challenge):
    edition = make_edition(challenge=challenge)
    host = make_user("prof")
    edition.host = host
    edition.save(update_fields=["host"])
    client.force_login(host)
    assert host_link(edition) in client.get(challenge.get_absolute_url()).content.decode()
    staff = make_user("staff")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    assert host_link(edition) in client.get(challenge.get_absolute_url()).content.decode()
