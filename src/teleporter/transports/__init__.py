"""How a payload reaches the destination and how the origin serves the moved program."""
