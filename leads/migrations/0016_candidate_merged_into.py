"""Candidate.merged_into: where a merged-away duplicate's person now lives, so that lead
intake can follow it. Filled for the merges made before it from their timeline events
(the duplicate's "merged" event records {"into": <kept candidate id>})."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    Candidate = apps.get_model("leads", "Candidate")
    TimelineEvent = apps.get_model("leads", "TimelineEvent")
    merges = TimelineEvent.objects.filter(kind="merged", data__has_key="into").order_by("occurred_at")
    for candidate_id, data in merges.values_list("candidate_id", "data").iterator():
        Candidate.objects.filter(pk=candidate_id).update(merged_into_id=data["into"])
    # Later merges of a kept record: point everything at the end of the way.
    for _ in range(10):
        moved = 0
        for candidate in Candidate.objects.filter(merged_into__merged_into__isnull=False).only("merged_into"):
            Candidate.objects.filter(pk=candidate.pk).update(
                merged_into_id=Candidate.objects.get(pk=candidate.merged_into_id).merged_into_id
            )
            moved += 1
        if not moved:
            break


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0015_unique_without_pattern_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='candidate',
            name='merged_into',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='merged_from', to='leads.candidate', verbose_name='merged into'),
        ),
        migrations.AddIndex(
            model_name='candidate',
            index=models.Index(condition=models.Q(('merged_into__isnull', False)), fields=['merged_into'], name='candidate_merged_into_idx'),
        ),
    ]
