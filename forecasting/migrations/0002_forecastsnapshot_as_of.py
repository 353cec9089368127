from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("forecasting", "0001_initial"),
    ]

    operations = [
        # No snapshot was stored before this field (the table is new); the default only fills the column.
        migrations.AddField(
            model_name="forecastsnapshot",
            name="as_of",
            field=models.DateField(default="2000-01-01"),
            preserve_default=False,
        ),
    ]
