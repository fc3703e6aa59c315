"""The tutorial's synchronous SQLAlchemy + SQLite audit logger, rebuilt as the baseline.

Same table, same per-call session.add + commit as ``shared/seed``'s ``AuditLogger.log``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Float, Integer, String, create_engine
from sqlalchemy.orm import declarative_base, sessionmaker

Base = declarative_base()


class AuditLog(Base):  # type: ignore[misc, valid-type]
    __tablename__ = "ai_audit_logs"
    id = Column(Integer, primary_key=True, autoincrement=True)
    request_id = Column(String(36), unique=True, nullable=False, index=True)
    timestamp = Column(DateTime, nullable=False, index=True)
    model_name = Column(String(100), nullable=False, index=True)
    model_version = Column(String(50), nullable=False)
    input_hash = Column(String(64), nullable=False)
    input_data = Column(JSON, nullable=False)
    output_data = Column(JSON, nullable=False)
    user_id = Column(String(100), index=True)
    latency_ms = Column(Float)
    metadata_ = Column("metadata", JSON)


class AuditLogger:
    """One row per call, committed before returning (the tutorial's design)."""

    def __init__(self, url: str) -> None:
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        self.session = sessionmaker(bind=engine)()

    def log(  # noqa: PLR0917 - the tutorial's signature, kept as published
        self,
        model_name: str,
        model_version: str,
        input_data: dict[str, Any],
        output_data: dict[str, Any],
        user_id: str | None = None,
        latency_ms: float | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        request_id = str(uuid.uuid4())
        input_hash = hashlib.sha256(json.dumps(input_data, sort_keys=True).encode()).hexdigest()
        self.session.add(
            AuditLog(
                request_id=request_id,
                timestamp=datetime.now(timezone.utc),
                model_name=model_name,
                model_version=model_version,
                input_hash=input_hash,
                input_data=input_data,
                output_data=output_data,
                user_id=user_id,
                latency_ms=latency_ms,
                metadata_=metadata,
            )
        )
        self.session.commit()
        return request_id
