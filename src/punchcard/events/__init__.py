"""Events: what members do, turned into points by the program's rules."""
