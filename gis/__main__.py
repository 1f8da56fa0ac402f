"""``python -m gis``."""

from .cli import main

main()
