from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('receivables', '0005_credit_note_write_off_updated_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='invoice',
            name='kind',
            field=models.CharField(choices=[('standard', 'Standard'), ('charges', 'Charges')], default='standard',
                                   max_length=20, verbose_name='kind'),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['standard', 'charges'])),
                                              name='invoice_kind_valid'),
        ),
    ]
