"""Benchmarks: run as modules, e.g. `python -m bench.sla_sweep` (see README.md)."""
