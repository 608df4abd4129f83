"""Hand-worked tests that kill mutants of the weights and formula constants (see scripts/mutation.sh)."""
