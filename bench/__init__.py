"""Benchmarks: the real bot over loopback HTTP, side by side with baseline bots (make bench)."""
