import datetime as dt

import pytest

from vitreem.imports.services import import_create, import_execute


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def run_import():
    """Upload bytes as `filename` and run the import; returns (batch, result)."""

    def run(user, filename, data, *, dry_run=False, valid_only=False, unit=None, sheet="", today=None):
        batch = import_create(actor=user, filename=filename, content=data, default_unit=unit, sheet=sheet)
        result = import_execute(actor=user, batch=batch, dry_run=dry_run, valid_only=valid_only, today=today)
        return batch, result

    return run


def years_ago(n: int, month: int = 3, day: int = 4) -> dt.date:
    today = dt.date.today()
    return dt.date(today.year - n, month, day)
