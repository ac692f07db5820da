"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from steward import __version__
from steward.web.deps import Db

router = APIRouter(prefix="/api/v1", tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str


@router.get("/health", response_model=Health)
def health(db: Db) -> Health:
    """The service is up and its governance database answers."""
    db.execute(text("SELECT 1"))
    return Health(status="ok", version=__version__, database=db.get_bind().dialect.name)
