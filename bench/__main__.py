"""`make bench`: run every bench/bench_*.py and print one JSON line per figure.

Each module has `run(emit)`; `emit(name, value, unit, baseline_name=None, baseline_value=None)` prints
{"name", "value", "unit", "baseline", "baseline_value", "ratio"}. A baseline is always measured in the
same run (never a number from elsewhere). Select modules with `make bench BENCH_ARGS="seed stats"`.
Benchmarks only talk to 127.0.0.1 and bound their loops in count and time. Not part of `make test`.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
import traceback

import bench as bench_package


def emit(name: str, value: float, unit: str, baseline_name: str | None = None,
         baseline_value: float | None = None, **extra) -> None:
    row = {"name": name, "value": round(value, 4) if isinstance(value, float) else value, "unit": unit}
    if baseline_name is not None:
        row["baseline"] = baseline_name
        row["baseline_value"] = round(baseline_value, 4) if isinstance(baseline_value, float) else baseline_value
        if baseline_value:
            row["ratio"] = round(value / baseline_value, 3)
    row.update(extra)
    print(json.dumps(row, ensure_ascii=False), flush=True)


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("VITREEM_VAR_DIR", os.path.join(os.getcwd(), "var", "bench"))
    import django

    django.setup()
    wanted = set(argv)
    names = sorted(m.name for m in pkgutil.iter_modules(bench_package.__path__) if m.name.startswith("bench_"))
    failed = 0
    for name in names:
        if wanted and name.removeprefix("bench_") not in wanted:
            continue
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").run(emit)
        except Exception:  # a failing benchmark is reported, the others still run
            failed += 1
            traceback.print_exc()
            emit(f"{name}.failed", 1, "flag")
        emit(f"{name}.wall_time", time.perf_counter() - started, "s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
