"""A user's own package beside the scenario scripts (travels by value)."""
