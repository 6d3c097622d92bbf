from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0010_host_control"),
    ]

    operations = [
        migrations.AddField(
            model_name="submission",
            name="hidden_by_host",
            field=models.BooleanField(default=False),
        ),
    ]
