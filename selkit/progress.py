"""How a long step says what it is doing: a ``Progress`` callback takes one short line.

The library never prints; the CLI passes a callback that draws on a terminal (and None in a
pipe, so nothing is drawn). Every long step (a link, a build, a VM boot) takes one.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]
