"""What `make run`, the tests and the benchmarks start on one machine: embedded servers and the
whole service."""
