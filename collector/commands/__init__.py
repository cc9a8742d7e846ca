"""What each ``codextime`` command does once its options are parsed.

``collector/cli.py`` declares the commands (options, help, examples) and calls one function here
per command; these modules join the collector's and the store's library calls into a command's
work and output. By command group:

- ``entry``: the process itself (``main``), and a plain ``report`` run without building the
  whole command-line app;
- ``reporting``: ``report`` and ``scan``, and the record label both check;
- ``syncing``: ``sync`` and ``login``;
- ``serving``: ``serve``;
- ``starting``: ``demo`` and ``start`` (the dashboard);
- ``account``: the signed-in account on a server: ``account``, ``leaderboard``, ``open``.
"""
