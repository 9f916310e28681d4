"""Benchmark suite: the same rules through seqdsl and hand-written alternatives.

`python benchmarks/run.py` is the entry point; docs/performance.md shows its results.
"""
