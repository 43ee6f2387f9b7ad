"""Logging: a size-bounded rotating file in DATA_DIR/logs, rolled over on request."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from gateway.loglimit import RateLimitedFileHandler, RateLimitedStreamHandler

_FORMAT = "%(asctime)s [%(levelname)s] %(name)s: %(message)s"


class LogManager:
    def __init__(self) -> None:
        self.file_handler: logging.handlers.RotatingFileHandler | None = None
        self.log_file: Path | None = None

    def setup(
        self,
        log_file: Path | None,
        level: str = "INFO",
        max_bytes: int = 10 * 1024 * 1024,
        backup_count: int = 3,
        console: bool = True,
    ) -> None:
        root = logging.getLogger()
        root.setLevel(level.upper())
        if console and not any(
            isinstance(h, logging.StreamHandler) and getattr(h, "_skysail", False)
            for h in root.handlers
        ):
            stream = RateLimitedStreamHandler(sys.stderr)
            stream.setFormatter(logging.Formatter(_FORMAT))
            stream._skysail = True  # type: ignore[attr-defined]
            root.addHandler(stream)
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            # repeated records are rate-limited (gateway/loglimit.py): an attack must not
            # fill the disk or rotate the audit trail away
            handler = RateLimitedFileHandler(
                log_file, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
            )
            handler.setFormatter(logging.Formatter(_FORMAT))
            root.addHandler(handler)
            self.file_handler = handler
            self.log_file = log_file

    def rollover(self) -> bool:
        if self.file_handler is None:
            return False
        self.file_handler.doRollover()
        return True

    def close(self) -> None:
        if self.file_handler is not None:
            logging.getLogger().removeHandler(self.file_handler)
            self.file_handler.close()
            self.file_handler = None
