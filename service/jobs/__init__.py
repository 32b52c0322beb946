"""Training jobs: their table (JobStore), the worker process, and the runner in the service."""
