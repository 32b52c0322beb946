"""Whole-chain checks: the answer's linkage, grounding, reward-hacking signals, probes."""
