"""Workloads the comparison benchmarks run, importable so tests can exercise them."""
