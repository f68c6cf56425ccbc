"""kcolor's benchmark harness: `python -m benchmarks --help` (see docs/PERFORMANCE.md)."""
