"""One small router per feature; main.py includes them all."""

from service.api.routes import audit, cases, health, keys, metrics, validate

ROUTERS = [
    health.router,
    validate.router,
    cases.router,
    audit.router,
    keys.router,
    metrics.router,
]
