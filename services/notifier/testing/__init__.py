"""Loopback servers speaking the providers' protocols, for tests, benchmarks and drills."""
