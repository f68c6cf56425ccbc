"""kcolor's benchmark harness: `python -m benchmarks --help` (see benchmarks/README.md)."""
