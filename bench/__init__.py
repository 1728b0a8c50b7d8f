"""Benchmarks: server time of dashboard interactions, replayed through the real callbacks."""
