"""`vitreem seed_demo` run by hand on a database where `load_places` never ran (`make demo` runs it first)."""
from io import StringIO

import pytest
from django.core.management import call_command

from vitreem.places.models import AdminUnit
from vitreem.registry.models import Child


@pytest.mark.django_db
def test_seed_demo_loads_the_units_it_needs_when_none_are_there():
    units = AdminUnit.objects.count()
    for level in ("commune", "district", "province"):  # each unit protects its parent
        AdminUnit.objects.filter(level=level).delete()
    assert not AdminUnit.objects.exists()

    call_command("seed_demo", "--children", "100", stdout=StringIO())

    # the official list again (it was a traceback about province 62), then the demo on it
    assert AdminUnit.objects.count() == units
    assert AdminUnit.objects.filter(version="legacy", level="province", code="62").exists()
    assert Child.objects.count() >= 100  # the other parts (cases, imports) add a few of their own
