"""Use cases. Each opens one unit of work, loads, calls the pure domain, and commits once."""
