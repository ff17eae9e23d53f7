"""Seed the default quality rubric: six criteria of equal weight."""

from typing import Any

from django.db import migrations

DEFAULTS = [
    ("accuracy", "الدقة", "Accuracy"),
    ("completeness", "الاكتمال", "Completeness"),
    ("clarity", "الوضوح", "Clarity"),
    ("courtesy", "اللباقة", "Courtesy"),
    ("language", "سلامة اللغة", "Language"),
    ("timeliness", "الالتزام بالوقت", "Timeliness"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    criterion = apps.get_model("feedback", "QualityCriterion")
    for order, (code, name_ar, name_en) in enumerate(DEFAULTS, start=1):
        criterion.objects.get_or_create(
            code=code, defaults={"name_ar": name_ar, "name_en": name_en, "weight": 1, "order": order}
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("feedback", "QualityCriterion").objects.filter(
        code__in=[code for code, _ar, _en in DEFAULTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("feedback", "0003_quality_review")]

    operations = [migrations.RunPython(seed, unseed)]
