"""Products: what leaves Steward, built from the source at the moment of asking."""
