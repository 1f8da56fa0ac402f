"""``python -m gis``."""

from gis.cli import main

main()
