"""The operations layer: what faithgate does, whichever door the request came through.

Routes (service/api), CLI commands (service/cli), the Alertmanager hook and the job runner
(service/jobs) are thin callers of these modules. Each operation takes an `Actor` (who acts,
recorded in every audit record it writes) and raises `service.ops.errors.OpError`s, which
service/errors.py maps to HTTP statuses in one place and the CLI prints.
"""
