"""/healthz: whether the database answers (for load balancers and monitoring)."""

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from bot.db import check_database

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise (no details: they may name hosts)."""
    try:
        check_database()
    except SQLAlchemyError:
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
