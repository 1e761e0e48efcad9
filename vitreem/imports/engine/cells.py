"""Reading cells: each mapped column's legacy encoding (TCVN3, VNI) detected once, every text cell
converted to Unicode NFC, and each distinct cell of a repetitive column converted and parsed once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vitreem.core.text import detect_column_encoding, nfc, to_unicode

from ..columns import FIELDS
from ..values import CellError
from .state import ImporterState

TEXT_FIELDS = {"full_name", "family_middle", "given_name", "ethnicity", "village", "unit", "guardian", "father",
               "mother", "relationship", "poverty", "special", "risk", "schooling", "disability", "note", "sex"}
ENCODING_SAMPLE = 3000
# Columns whose cells repeat a lot (ethnicity, village, commune, sex, poverty…): each distinct text is
# converted and parsed once per import. Names, IDs and dates are nearly unique, so caching them
# would only fill memory.
UNIQUE_FIELDS = {"seq", "full_name", "family_middle", "given_name", "personal_id", "birth_date", "guardian", "father",
                 "mother", "note"}


class CellReader(ImporterState):
    """The cells of a row as the engine reads them."""

    def _detect_encodings(self) -> dict[int, str]:
        found = {}
        for index, name in self.mapping.items():
            if name not in TEXT_FIELDS:
                continue
            sample = []
            for _row, cells in self.table.data_rows():
                if index < len(cells) and isinstance(cells[index], str) and cells[index]:
                    sample.append(cells[index])
                    if len(sample) >= ENCODING_SAMPLE:
                        break
            found[index] = detect_column_encoding(sample)
        return found

    @property
    def encoding(self) -> str:
        legacy = sorted({e for e in self.encodings.values() if e in ("tcvn3", "vni")})
        return "+".join(legacy) if legacy else "unicode"

    def header(self, name: str) -> str:
        index = self.col.get(name)
        return self.table.headers[index] if index is not None else str(FIELDS.get(name, name))

    def _cell(self, cells: list[Any], name: str) -> Any:
        """One cell of a row as the engine reads it (legacy encodings converted, text in NFC)."""
        index = self.col.get(name)
        if index is None or index >= len(cells):
            return ""
        return self._convert(index, cells[index])

    def _convert(self, index: int, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        memo = self._memo.get(index)
        if memo is not None:
            hit = memo.get(value)
            if hit is not None:
                return hit
        encoding = self.encodings.get(index, "unicode")
        out = to_unicode(value, encoding) if encoding in ("tcvn3", "vni") else nfc(value)
        if memo is not None:
            memo[value] = out
        return out

    def _values(self, cells: list[Any]) -> dict[str, Any]:
        """Every mapped field of a row, read once (the row readers, engine.rows, look at a field several times)."""
        n = len(cells)
        return {name: self._convert(index, cells[index]) if index < n else "" for name, index in self.col.items()}

    def _parsed(self, kind: str, parse: Callable[[Any], Any], value: Any) -> Any:
        """parse(value), remembered per distinct cell (by type too: 1.0, 1 and True read differently)."""
        cache = self._parse_cache.setdefault(kind, {})
        key = (type(value), value)
        hit = cache.get(key)
        if hit is None:
            try:
                hit = (True, parse(value))
            except CellError as exc:
                hit = (False, exc.code, exc.message, exc.candidates)
            cache[key] = hit
        if hit[0]:
            return hit[1]
        raise CellError(hit[1], hit[2], candidates=hit[3])
