"""The province code every child-data row carries (issue 13 item 6).

It is the code of the child's province in the 2025 version (34 provinces), so that the data can later
be distributed by province on a distributed PostgreSQL (Citus): every table of one child's data then
has the same distribution column and its rows live together. A child never changes province in
vitreem (leaving the province ends the record; the other province registers the child), so the value
never changes after the insert.

The field fills itself on every insert Django makes — save() and bulk_create() both call
`pre_save` — from `source`: a foreign key to an administrative unit (its 2025 province, legacy units
through the crosswalk) or to a row that carries its own province code (a residence takes its
child's). Raw COPY paths (core.bulk.insert_rows and Copy) must give the column themselves:
they refuse a table with this field when it is not among their columns.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class ProvinceCodeField(models.CharField):
    # core.bulk.insert_rows and core.bulk.Copy refuse a COPY into the table without this column.
    required_in_copy = True

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 4)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("help_text", "2025 province code of the child (distribution key)")
        self.source = source
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = getattr(model_instance, self.attname)
        if not value:
            value = self.derive(model_instance)
            setattr(model_instance, self.attname, value)
        return value

    def derive(self, instance: models.Model) -> str:
        from vitreem.places.models import AdminUnit
        from vitreem.places.selectors import province_code_of

        fk = instance._meta.get_field(self.source)
        target_id = getattr(instance, fk.attname)  # type: ignore[union-attr]
        if target_id is None:
            return ""
        related = fk.related_model
        if related is AdminUnit:
            return province_code_of(target_id)
        if fk.is_cached(instance):  # type: ignore[union-attr]
            return getattr(getattr(instance, self.source), "province_code", "") or ""
        row = related._default_manager.filter(pk=target_id).values_list("province_code", flat=True).first()  # type: ignore[union-attr]
        return row or ""


def province_fields(model: type[models.Model]) -> list[ProvinceCodeField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, ProvinceCodeField)]
