"""The numerical core: pure functions from sparse arrays to arrays."""
