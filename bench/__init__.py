"""Benchmarks: figures for the issues, printed and written to bench/results/ (not tests)."""
