"""Test support shared by the test suite and the benchmarks (not imported by the running system)."""
