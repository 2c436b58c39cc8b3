"""When a long loop writes its next plain progress line (off a terminal, where no bar draws)."""

from __future__ import annotations

import time


class PlainLineThrottle:
    """Decides, for ``done`` of ``total`` items, whether a progress line is due: at the first and
    the last item, whenever ``done`` enters a new tenth of ``total``, and otherwise at most every
    ``every_s`` seconds. The same in a log and on a terminal without a bar."""

    def __init__(self, every_s: float = 30.0) -> None:
        self.every_s = every_s
        self.start = self._last = time.monotonic()
        self._tenth = 0

    def due(self, done: int, total: int) -> bool:
        """Whether to write the line for ``done`` now (and remember that it was written)."""
        tenth = (10 * done) // max(total, 1)
        now = time.monotonic()
        if done in (1, total) or tenth > self._tenth or now - self._last >= self.every_s:
            self._tenth, self._last = tenth, now
            return True
        return False
