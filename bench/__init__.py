"""Benchmarks and review tools; importable so that tests share their measures."""
