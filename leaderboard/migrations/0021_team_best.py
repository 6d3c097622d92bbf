from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("leaderboard", "0020_host_control_api")]

    operations = []
