"""The rules validator: YAML domain rule packs compiled to z3 (medical, finance, legal)."""
