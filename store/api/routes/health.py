"""Health: GET /healthz, the service is up and its store answers."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, status

from store.api.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(engine: EngineDep) -> dict:
    """Up, and the store answers."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.SQLAlchemyError:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "store unavailable") from None
    return {"status": "ok"}
