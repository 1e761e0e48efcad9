from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from vitreem.core.scope import scope_for
from vitreem.places.models import AdminUnit, Level

from .columns import FIELDS


def commune_choices(user) -> list[tuple[str, str]]:
    units = AdminUnit.objects.filter(pk__in=scope_for(user).unit_ids, level=Level.COMMUNE, version="2025")
    return [(str(u.pk), u.name) for u in units.order_by("name")]


class UploadForm(forms.Form):
    file = forms.FileField(label=_l("Tệp danh sách (.xlsx, .xls, .ods, .csv)"))
    unit = forms.ChoiceField(label=_l("Xã/phường cho các dòng không ghi xã"), required=False)
    sheet = forms.CharField(label=_l("Trang tính (để trống: tự tìm)"), required=False, max_length=120)

    def __init__(self, *args: Any, user, **kwargs: Any):
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ChoiceField)
        unit_field.choices = [("", _("— tự nhận từ tệp —")), *commune_choices(user)]
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.xls,.xlsm,.ods,.csv"

    def unit_obj(self) -> AdminUnit | None:
        value = self.cleaned_data.get("unit")
        return AdminUnit.objects.get(pk=int(value)) if value else None


class MappingForm(forms.Form):
    """One select per column of the file; plus one per split legacy commune (which unit it is now)."""

    def __init__(self, *args: Any, headers: list[str], mapping: dict[int, str],
                 splits: dict[str, list[dict]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [("", _("— bỏ qua cột này —"))] + [(k, str(v)) for k, v in FIELDS.items()]
        for i, header in enumerate(headers):
            if not header and i not in mapping:
                continue
            self.fields[f"col_{i}"] = forms.ChoiceField(label=header or _("(cột %(n)s không tiêu đề)") % {"n": i + 1},
                                                        choices=choices, required=False, initial=mapping.get(i, ""))
        self.splits = splits or {}
        for n, (name, candidates) in enumerate(self.splits.items()):
            self.fields[f"split_{n}"] = forms.ChoiceField(
                label=_("\"%(v)s\" nay là") % {"v": name}, required=False,
                choices=[("", _("— chưa chọn —"))] + [(str(c["id"]), f"{c['name']} ({c['ref']})") for c in candidates])

    def mapping(self) -> dict[int, str]:
        return {int(k[4:]): v for k, v in self.cleaned_data.items() if k.startswith("col_") and v}

    def unit_choices(self) -> dict[str, int]:
        from .values import UnitResolver

        out = {}
        for n, name in enumerate(self.splits):
            value = self.cleaned_data.get(f"split_{n}")
            if value:
                out[UnitResolver.choice_key(name)] = int(value)
        return out

    def column_fields(self):
        return [self[name] for name in self.fields if name.startswith("col_")]

    def split_fields(self):
        return [self[name] for name in self.fields if name.startswith("split_")]
