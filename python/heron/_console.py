"""Console capture: stdout and stderr are passed through unchanged and also recorded with the run."""

from __future__ import annotations

import sys
from typing import Any, Callable, TextIO


class _Tee:
    """Wraps a text stream; every write also goes to the run (1 = stdout, 2 = stderr)."""

    def __init__(self, inner: TextIO, stream: int, record: Callable[[int, str], None]) -> None:
        self._inner = inner
        self._stream = stream
        self._record = record

    def write(self, text: str) -> int:
        n = self._inner.write(text)
        try:
            if isinstance(text, str) and text:
                self._record(self._stream, text)
        except Exception:  # noqa: BLE001 - recording must never break printing
            pass
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ConsoleCapture:
    def __init__(self, record: Callable[[int, str], None]) -> None:
        self._record = record
        self._saved: tuple = ()

    def start(self) -> None:
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _Tee(sys.stdout, 1, self._record)  # type: ignore[assignment]
        sys.stderr = _Tee(sys.stderr, 2, self._record)  # type: ignore[assignment]

    def stop(self) -> None:
        if not self._saved:
            return
        out, err = self._saved
        # Only undo our own wrapping: someone may have replaced the streams since.
        if isinstance(sys.stdout, _Tee) and sys.stdout._record is self._record:
            sys.stdout = out
        if isinstance(sys.stderr, _Tee) and sys.stderr._record is self._record:
            sys.stderr = err
        self._saved = ()
