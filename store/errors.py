"""The one error type a person reads: every domain error derives from it.

Kept free of imports, so the collector's light path, the store and the command line can all name
it without loading anything else; the command line catches this one type and prints its message.
"""


class UserError(Exception):
    """A problem whose message is one line that is the whole story: shown as it is, no
    traceback."""


def database_words(exc: BaseException) -> str:
    """The first line of a database error in the database's own words, without SQLAlchemy's
    statement and parameters (which can hold a record's values)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
