"""``python -m selkit``."""

from selkit.cli import main

main()
