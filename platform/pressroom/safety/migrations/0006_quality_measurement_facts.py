"""Policies still on the old default list of fact types also check measurements (350 ml,
10-year); a list a workspace chose itself is left as it is."""
from django.db import migrations

OLD_DEFAULT = ["url", "email", "price", "percentage", "date", "phone"]
NEW_DEFAULT = ["url", "email", "price", "percentage", "date", "measurement", "phone"]


def _swap(apps, old: list, new: list) -> None:
    SafetyPolicy = apps.get_model("safety", "SafetyPolicy")
    for policy in SafetyPolicy.objects.all():
        if policy.quality_fact_types == old:
            policy.quality_fact_types = new
            policy.save(update_fields=["quality_fact_types"])


class Migration(migrations.Migration):
    dependencies = [("safety", "0005_verdict_reason")]

    operations = [
        migrations.RunPython(lambda apps, schema: _swap(apps, OLD_DEFAULT, NEW_DEFAULT),
                             lambda apps, schema: _swap(apps, NEW_DEFAULT, OLD_DEFAULT)),
    ]
