"""The logic validator: first-order formulas (FOLIO notation) checked for entailment with z3."""
