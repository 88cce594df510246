"""wechatpy SessionStorage backed by the database, so every worker shares one access token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from wechatpy.session import SessionStorage

from models import KeyValue, utcnow

REFRESH_MARGIN = timedelta(seconds=60)  # treat a token this close to expiry as gone


class DatabaseTokenStorage(SessionStorage):
    """Key/value storage in the `keyvalue` table, with expiry."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, key, default=None):
        with self.engine.connect() as conn:
            row = conn.execute(
                select(KeyValue.value, KeyValue.expires_at).where(KeyValue.key == key)
            ).first()
            conn.rollback()
        if row is None:
            return default
        value, expires_at = row
        if expires_at is not None and expires_at - REFRESH_MARGIN <= utcnow():
            return default
        return value

    def set(self, key, value, ttl=None):
        expires_at = utcnow() + timedelta(seconds=int(ttl)) if ttl else None
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(KeyValue).where(KeyValue.key == key)
                .values(value=value, expires_at=expires_at)
            ).rowcount
            if changed:
                return
            try:
                with conn.begin_nested():
                    conn.execute(
                        KeyValue.__table__.insert()
                        .values(key=key, value=value, expires_at=expires_at)
                    )
            except IntegrityError:  # another worker inserted it first: last writer wins
                conn.execute(
                    update(KeyValue).where(KeyValue.key == key)
                    .values(value=value, expires_at=expires_at)
                )

    def delete(self, key):
        with self.engine.begin() as conn:
            conn.execute(delete(KeyValue).where(KeyValue.key == key))
