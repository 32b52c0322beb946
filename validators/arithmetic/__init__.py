"""The arithmetic validator: computations in prose or whole LaTeX math, evaluated exactly."""
