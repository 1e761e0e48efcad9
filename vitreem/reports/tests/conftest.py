from vitreem.stats.tests.conftest import demo, demo_province  # noqa: F401 — the small demo province fixtures
