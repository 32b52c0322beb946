"""One small router per feature; main.py includes them all."""

from service.api.routes import (
    adapters,
    audit,
    cases,
    chat,
    health,
    hooks,
    keys,
    metrics,
    models,
    probe,
    review_page,
    training,
    validate,
)
from service.api.schemas.validate import BatchIn, ChainIn

ROUTERS = [
    health.router,
    validate.router,
    cases.router,
    audit.router,
    keys.router,
    metrics.router,
    chat.router,
    models.router,
    probe.router,
    training.router,
    adapters.router,
    hooks.router,
    review_page.router,
]

# Served by api/hot.py without the router (they take the raw Request, return a Response).
HOT_ENDPOINTS = (validate.validate_one, validate.validate_batch)

# Request models of routes that parse their own body (published in OpenAPI by api/openapi.py).
BODY_MODELS = [ChainIn, BatchIn]
