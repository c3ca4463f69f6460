"""Every attack-suite test runs with the process's logs captured as they would be written (the
JSON lines of ``shared.observability``, tracebacks included) and ends with the personal-data
scan: no phone, national ID or e-mail any factory handed out in this process may appear."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from shared.observability import JsonFormatter, install_redaction
from tests.factories import PERSONAL_DATA

CAPTURED = ("", "autofin")


class LogCapture:
    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())
        self.handler.setLevel(logging.DEBUG)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def personal_data(self, extra: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
        text = self.text
        return sorted(value for value in PERSONAL_DATA | extra if value and value in text)


@pytest.fixture(autouse=True)
def log_capture() -> Iterator[LogCapture]:
    install_redaction()
    capture = LogCapture()
    # At the levels the loggers already have (lowering the root's would turn SQLAlchemy's
    # statement echo on, which no deployment runs).
    loggers = [logging.getLogger(name) for name in CAPTURED]
    for logger in loggers:
        logger.addHandler(capture.handler)
    try:
        yield capture
    finally:
        for logger in loggers:
            logger.removeHandler(capture.handler)
    leaked = capture.personal_data()
    assert not leaked, f"personal data in the logs: {len(leaked)} values, e.g. {leaked[:3]}"
