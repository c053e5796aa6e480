"""Benchmarks: `python -m bench SUITE [--quick] [--json FILE]` prints the figures the issues ask for."""
