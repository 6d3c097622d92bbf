"""Accounts (django-allauth) through the real pages: sign-up mails a verification link through
the real Redis queue (never sent in the request), the link verifies the address, a reset link
sets a new password, addresses are added and made primary, and a login takes a username or an
address. Single sign-on is off unless configured; configured, its button sends the browser to
the provider that a discovery document on 127.0.0.1 names (no network)."""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading
import uuid

import pytest
import redis
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from leaderboard.account_mail import ACCOUNT_MAIL_TASK, account_mail_send
from leaderboard.celery import app as celery_app
from leaderboard.sso import oidc_providers

from .factories import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-pass-phrase-9"


@pytest.fixture
def mail_queue(settings):
    """A queue of this test's own on the real broker; yields a function that takes what the
    site queued there and sends it as the worker's task would (into ``mail.outbox``)."""
    name = f"account-mail-{uuid.uuid4().hex[:10]}"
    settings.NOTIFICATIONS_QUEUE = name
    client = redis.Redis.from_url(celery_app.conf.broker_url)

    def deliver() -> list:
        sent = []
        while (raw := client.lpop(name)) is not None:
            message = json.loads(raw)
            assert message["headers"]["task"] == ACCOUNT_MAIL_TASK
            body = json.loads(base64.b64decode(message["body"]))
            (payload,) = body[0]
            assert account_mail_send(payload=payload) == "sent"
            sent.append(mail.outbox[-1])
        return sent

    yield deliver
    client.delete(name)


def sign_up(client: Client, username: str, email: str, **extra) -> object:
    data = {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    return client.post(reverse("signup"), data | extra)


def link_in(message, path: str) -> str:
    (found,) = re.findall(rf"https?://[^/\s]+({re.escape(path)}\S+/)", message.body)
    return found


def test_sign_up_queues_the_verification_mail_and_its_link_verifies(
    client, mail_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, "ann", "Ann@Example.org")
    assert response.status_code == 302  # logged in at once: verification is optional
    assert mail.outbox == []  # nothing was sent in the request
    (message,) = mail_queue()
    assert message.to == ["ann@example.org"]
    assert message.subject.startswith("[Arena] ")
    address = EmailAddress.objects.get(user__username="ann")
    assert address.primary and not address.verified

    link = link_in(message, "/accounts/confirm-email/")
    anonymous = Client()
    page = anonymous.get(link).content.decode()
    assert "Confirm your e-mail address" in page and "ann@example.org" in page.lower()
    assert anonymous.post(link).status_code == 302
    address.refresh_from_db()
    assert address.verified


def test_a_bad_or_used_verification_link_says_so(client):
    page = client.get("/accounts/confirm-email/not-a-key/").content.decode()
    assert "This link has expired or is not valid" in page


def test_sign_up_requires_an_address_and_refuses_one_already_taken(client):
    user = make_user("old")
    EmailAddress.objects.create(user=user, email="taken@example.org", primary=True)
    page = sign_up(client, "nomail", "").content.decode()
    assert "This field is required" in page
    page = sign_up(client, "copycat", "TAKEN@example.org").content.decode()
    assert "already registered" in page
    assert not get_user_model().objects.filter(username__in=["nomail", "copycat"]).exists()


def test_password_reset_through_the_mailed_link(mail_queue, django_capture_on_commit_callbacks):
    user = make_user("bob")
    EmailAddress.objects.create(user=user, email="bob@example.org", primary=True)
    browser = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(reverse("account_reset_password"), {"email": "BOB@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []
    (message,) = mail_queue()
    assert message.to == ["bob@example.org"]
    link = link_in(message, "/accounts/password/reset/key/")

    form = browser.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    new = "another-long-phrase-7"
    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert done.status_code == 302
    (notice,) = mail_queue()  # the account is told its password changed
    assert notice.to == ["bob@example.org"] and "password" in notice.body.lower()
    assert notice.subject == "[Arena] Password Reset"
    assert "Password changed" in browser.get(done["Location"]).content.decode()
    again = Client()
    assert again.post(reverse("login"), {"login": "bob", "password": new}).status_code == 302
    assert (
        Client().post(reverse("login"), {"login": "bob", "password": "pw-for-tests-1"}).status_code
        == 200
    )
    # The link worked once.
    assert "This link no longer works" in Client().get(link, follow=True).content.decode()


def test_login_by_username_or_address_and_the_old_username_field(client):
    user = make_user("carol")
    EmailAddress.objects.create(user=user, email="carol@example.org", primary=True)
    for login in ("carol", "Carol@Example.org"):
        browser = Client()
        assert browser.post(reverse("login"), {"login": login, "password": "pw-for-tests-1"})[
            "Location"
        ] == reverse("challenge_list")
        assert browser.get(reverse("api_tokens")).status_code == 200
    # Scripts that post Django's old field name keep working.
    old = Client()
    assert (
        old.post(reverse("login"), {"username": "carol", "password": "pw-for-tests-1"}).status_code
        == 302
    )
    wrong = Client().post(reverse("login"), {"login": "carol", "password": "nope"})
    assert wrong.status_code == 200 and "not correct" in wrong.content.decode()


def test_adding_verifying_and_making_an_address_primary(
    mail_queue, django_capture_on_commit_callbacks
):
    user = make_user("dan")
    user.email = "dan@old.example.org"
    user.save()
    EmailAddress.objects.create(user=user, email="dan@old.example.org", primary=True, verified=True)
    browser = Client()
    browser.force_login(user)
    page = browser.get(reverse("account_email")).content.decode()
    assert "dan@old.example.org" in page and "verified" in page

    with django_capture_on_commit_callbacks(execute=True):
        added = browser.post(
            reverse("account_email"), {"action_add": "", "email": "dan@new.example.org"}
        )
    assert added.status_code == 302
    (message,) = mail_queue()
    assert message.to == ["dan@new.example.org"]
    # Not verified yet: it cannot be made primary.
    browser.post(reverse("account_email"), {"action_primary": "", "email": "dan@new.example.org"})
    user.refresh_from_db()
    assert user.email == "dan@old.example.org"

    link = link_in(message, "/accounts/confirm-email/")
    assert browser.post(link).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(
            reverse("account_email"), {"action_primary": "", "email": "dan@new.example.org"}
        )
    user.refresh_from_db()
    assert user.email == "dan@new.example.org"
    (notice,) = mail_queue()  # the old address hears of the change
    assert notice.to == ["dan@old.example.org"] and notice.subject == "[Arena] Email Changed"
    new = EmailAddress.objects.get(email="dan@new.example.org")
    assert new.primary and new.verified
    assert not EmailAddress.objects.get(email="dan@old.example.org").primary


def test_the_menu_links_to_the_account_pages(client):
    client.force_login(make_user("erin"))
    page = client.get(reverse("challenge_list")).content.decode()
    assert f'<a class="who" href="{reverse("account_email")}"' in page
    page = client.get(reverse("account_email")).content.decode()
    assert "Your e-mail addresses" in page and reverse("account_change_password") in page


def test_single_sign_on_is_off_by_default(client, settings):
    assert settings.SOCIALACCOUNT_PROVIDERS == {}
    page = client.get(reverse("login")).content.decode()
    assert 'id="sso"' not in page and "/accounts/oidc/" not in page
    assert not SocialApp.objects.exists()


def test_single_sign_on_shows_the_providers_button_when_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(
        url="https://login.example.edu/realms/students",
        client_id="arena",
        secret="s3cret",
        name="Example University",
    )
    (app,) = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    assert app["provider_id"] == "university" and app["client_id"] == "arena"
    assert app["settings"]["server_url"] == "https://login.example.edu/realms/students"

    page = client.get(reverse("login")).content.decode()
    assert 'id="sso"' in page and "Log in with Example University" in page
    assert 'action="/accounts/oidc/university/login/?process=login"' in page
    assert not SocialApp.objects.exists()  # from settings only, nothing in the database


def test_single_sign_on_settings_refuse_half_a_configuration():
    assert oidc_providers(url="", client_id="", secret="", name="") == {}
    with pytest.raises(ImproperlyConfigured, match="OIDC_CLIENT_SECRET"):
        oidc_providers(url="https://login.example.edu", client_id="arena", secret="", name="U")
    with pytest.raises(ImproperlyConfigured, match="not an http"):
        oidc_providers(url="login.example.edu", client_id="a", secret="b", name="U")


@pytest.fixture
def local_provider():
    """An OpenID Connect provider's discovery document served on 127.0.0.1 (no network)."""

    class Discovery(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/realm/.well-known/openid-configuration":
                self.send_error(404)
                return
            base = f"http://127.0.0.1:{self.server.server_port}/realm"
            body = json.dumps(
                {
                    "issuer": base,
                    "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token",
                    "userinfo_endpoint": f"{base}/userinfo",
                    "jwks_uri": f"{base}/jwks",
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/realm"
    server.shutdown()
    server.server_close()


def test_the_university_button_sends_the_browser_to_the_provider(client, settings, local_provider):
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(
        url=local_provider, client_id="arena", secret="s3cret", name="Example University"
    )
    response = client.post("/accounts/oidc/university/login/?process=login")
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith(f"{local_provider}/authorize?")
    assert "client_id=arena" in target and "code_challenge=" in target  # PKCE
    assert (
        "redirect_uri=http%3A%2F%2Ftestserver%2Faccounts%2Foidc%2Funiversity%2Flogin%2Fcallback%2F"
        in target
    )


def test_with_mandatory_verification_a_new_account_waits_for_its_link(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    response = sign_up(client, "strict", "strict@example.org")
    assert response["Location"] == reverse("account_email_verification_sent")
    page = client.get(response["Location"]).content.decode()
    assert "Verify your e-mail address" in page
    assert client.get(reverse("api_tokens")).status_code == 302  # not logged in
    login = Client().post(reverse("login"), {"login": "strict", "password": PASSWORD})
    assert login["Location"] == reverse("account_email_verification_sent")
