"""Synthetic registers for benchmarks and load tests (`register generate`)."""
