"""JSON API routers (/api/v1)."""
