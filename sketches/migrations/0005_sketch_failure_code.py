from django.db import migrations, models


def code_past_timeouts(apps, schema_editor):
    # Metrics count timeouts by code: give the rows failed before the code existed theirs.
    Sketch = apps.get_model("sketches", "Sketch")
    Sketch.objects.filter(status="failed", error__startswith="The conversion timed out").update(failure_code="timeout")


class Migration(migrations.Migration):
    dependencies = [
        ("sketches", "0004_sharelink"),
    ]

    operations = [
        migrations.AddField(
            model_name="sketch",
            name="failure_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("timeout", "Timed out"),
                    ("bad_image", "Bad image"),
                    ("missing_original", "Original missing"),
                    ("changed_original", "Original changed"),
                    ("engine_crashed", "Engine crashed"),
                    ("out_of_memory", "Out of memory"),
                    ("storage", "Storage unavailable"),
                    ("database", "Database unavailable"),
                    ("lost", "Worker lost"),
                    ("failed_by_admin", "Failed by an administrator"),
                    ("internal", "Internal error"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(code_past_timeouts, migrations.RunPython.noop),
    ]
