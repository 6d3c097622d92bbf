"""Accounts move to django-allauth: each existing account's e-mail becomes its primary allauth
address, so that it can log in by address, reset its password and manage its addresses.

Not verified (nobody proved they read that mailbox; verification is optional, so the account
logs in as before). Blank addresses are skipped; an address shared by several accounts,
case-blind, goes to the oldest of them only (allauth keeps one account per address; the others
log in by username and can add an address of their own). Passwords are not touched.
"""

from django.conf import settings
from django.db import migrations


def addresses_from_users(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    EmailAddress = apps.get_model("account", "EmailAddress")
    taken = {email.lower() for email in EmailAddress.objects.values_list("email", flat=True)}
    has_one = set(EmailAddress.objects.values_list("user_id", flat=True).distinct())
    rows = []
    for pk, email in User.objects.exclude(email="").order_by("pk").values_list("pk", "email"):
        address = email.strip().lower()
        if not address or address in taken or pk in has_one:
            continue
        taken.add(address)
        rows.append(EmailAddress(user_id=pk, email=address, primary=True, verified=False))
    EmailAddress.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0017_model_check_deadline"),
        ("account", "0009_emailaddress_unique_primary_email"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Backwards the rows stay: allauth's tables belong to allauth, and they are harmless.
    operations = [migrations.RunPython(addresses_from_users, migrations.RunPython.noop)]
