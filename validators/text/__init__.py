"""Shared text handling: steps, answers, numbers in prose, the safe math tokenizer and parser."""
