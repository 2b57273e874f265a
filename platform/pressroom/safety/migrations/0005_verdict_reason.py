from django.db import migrations, models


class Migration(migrations.Migration):
    """A verdict keeps the check's reason: findings without a span (a missing disclaimer)
    had nowhere to be stored, so the review card could not show them."""

    dependencies = [
        ('safety', '0004_quality_settings'),
    ]

    operations = [
        migrations.AddField(
            model_name='safetyverdict',
            name='reason',
            field=models.TextField(blank=True),
        ),
    ]
