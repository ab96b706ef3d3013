from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0005_platform_schedule")]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="retry_until",
            field=models.DateTimeField(
                blank=True, help_text="A failed try after this time marks the delivery dead.", null=True
            ),
        ),
    ]
