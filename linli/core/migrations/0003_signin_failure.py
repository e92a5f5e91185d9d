"""Failed sign-ins: the throttle's counters and the record users and admins read (linli.core.signin)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_event_places_by_id'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SignInFailure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='time')),
                ('account_key', models.CharField(max_length=40, verbose_name='account key')),
                ('address_key', models.CharField(max_length=40, verbose_name='address key')),
                ('address', models.CharField(blank=True, max_length=64, verbose_name='address (truncated)')),
                ('kind', models.CharField(choices=[('wrong', 'wrong account or password'), ('locked', 'refused: account locked'), ('throttled', 'refused: too many attempts from the address')], default='wrong', max_length=16, verbose_name='kind')),
                ('cleared_at', models.DateTimeField(blank=True, null=True, verbose_name='cleared')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='account')),
            ],
            options={
                'verbose_name': 'failed sign-in',
                'verbose_name_plural': 'failed sign-ins',
                'ordering': ['-created_at', '-id'],
                'permissions': [('unlock_account', 'Can unlock accounts locked after failed sign-ins')],
                'indexes': [models.Index(fields=['account_key', '-created_at'], name='signin_account_time'), models.Index(fields=['address_key', '-created_at'], name='signin_address_time'), models.Index(fields=['user', '-created_at'], name='signin_user_time')],
            },
        ),
    ]
