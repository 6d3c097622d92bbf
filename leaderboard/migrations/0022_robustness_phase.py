from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("leaderboard", "0021_team_best")]

    operations = []
