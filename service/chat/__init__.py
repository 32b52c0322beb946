"""Chat with faithfulness: the step-by-step instruction, the policies, the audit of each attempt."""
