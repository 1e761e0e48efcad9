"""Decree 56/2017's sub-groups as the decree lists them (Arts. 3–16), and each episode's Decree 20/2021
Art. 5(1) point (issue 14 item 2).

Before, the code table had seven sub-groups of its own: 3.1–3.3 merged several of the decree's cases,
9.1–9.2 do not exist in the decree, 10.1–10.2 were two of its five. Existing episodes move to the decree's
sub-group nearest to what was recorded, and keep the Art. 5(1) point they were eligible under before —
a migration never stops a payment on its own; a worker who knows better corrects the episode:

    old 3.1 "one parent dead, the other missing or unable"   → 3.1 (other declared missing), point c
    old 3.2 "parents in prison or an administrative measure" → 3.9 (both in prison …),        point h
    old 3.3 "parents missing or unable to care"              → 3.4 (both declared missing),   point e
    old 9.1, 9.2 (physical, psychological violence)          → group 9, no sub-group
    old 10.1 (child labour)                                  → 10.1 (forced into unlawful work)
    old 10.2 (other exploitation)                            → 10.5 (other profiteering)

Group 1 episodes are point b, group 2 point a (an adopted child's episode should be corrected); a bare
group 3 with no sub-group says nothing the decree names, so it gets no point until a worker records it.
"""

from django.db import migrations, models

OLD = {  # old sub-group code and name -> (new code, Art. 5(1) point)
    ("3.1", "Mồ côi cha hoặc mẹ, người còn lại mất tích hoặc không đủ năng lực nuôi dưỡng"): ("3.1", "c"),
    ("3.2", "Cha, mẹ đang chấp hành án phạt tù hoặc biện pháp xử lý hành chính"): ("3.9", "h"),
    ("3.3", "Cha, mẹ mất tích hoặc không đủ năng lực nuôi dưỡng"): ("3.4", "e"),
    ("9.1", "Bạo lực thể chất"): (None, ""),
    ("9.2", "Bạo lực tinh thần"): (None, ""),
    ("10.1", "Lao động trái quy định của pháp luật về lao động"): ("10.1", ""),
    ("10.2", "Bóc lột khác"): ("10.5", ""),
}


def forward(apps, schema_editor):
    from vitreem.registry.codes import SPECIAL_GROUPS, codes_load

    group = apps.get_model("registry", "SpecialGroup")
    episode = apps.get_model("registry", "SpecialEpisode")
    # Which episodes sat in an old sub-group, read before the table is rewritten (codes keep their rows).
    moved: dict[tuple[str, str], list[int]] = {}
    old_rows = []
    for (code, name), _target in OLD.items():
        row = group.objects.filter(code=code, name=name).first()
        if row is not None:
            old_rows.append(row.pk)
            moved[(code, name)] = list(episode.objects.filter(subgroup_id=row.pk).values_list("pk", flat=True))
    codes_load(apps)
    by_code = {g.code: g for g in group.objects.all()}
    for key, ids in moved.items():
        new_code, point = OLD[key]
        episode.objects.filter(pk__in=ids).update(subgroup=by_code[new_code] if new_code else None, nurture_case=point)
    # Points of the episodes the sub-group decides (group 1: b; group 2: a, as paid before).
    episode.objects.filter(group__code="1").update(nurture_case="b")
    episode.objects.filter(group__code="2").update(nurture_case="a")
    # Old rows whose code the decree's list does not have (9.1, 9.2), now unused.
    new_codes = {code for code, *_rest in SPECIAL_GROUPS}
    group.objects.filter(pk__in=old_rows).exclude(code__in=new_codes).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_poverty_review")]
    operations = [
        migrations.AddField(model_name="specialepisode", name="nurture_case",
                            field=models.CharField(blank=True, default="", max_length=2)),
        # The decree's wording of sub-group 3.10 is over 200 characters.
        migrations.AlterField(model_name="specialgroup", name="name", field=models.CharField(max_length=300)),
        migrations.AlterField(model_name="specialgroup", name="name_en",
                              field=models.CharField(blank=True, max_length=300)),
        migrations.AlterField(model_name="specialgroup", name="search_key",
                              field=models.CharField(db_index=True, max_length=300)),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
