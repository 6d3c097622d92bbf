# Reserved in the chain so that work in parallel needs no merge; filled in or removed later.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0017_model_check_deadline"),
    ]

    operations = []
