"""``python -m collector``: the ``codextime`` command, for when the script is not on PATH."""

from collector.cli import main

main()
