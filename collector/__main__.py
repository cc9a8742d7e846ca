"""``python -m collector``: the ``codextime`` command, for when the script is not on PATH."""

from collector.commands.entry import main

main()
