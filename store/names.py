"""Display names on a public board: one normal form, a safe character set, and a look-alike key.

A name is read after Unicode NFKC normalisation (so fullwidth or styled letters become the plain
ones they stand for), and must then be 1 to 50 ASCII letters, digits, spaces, '.', '_' or '-',
starting with a letter or digit. Letters of other scripts are refused: many of them are drawn like
Latin ones (Cyrillic "а" and Latin "a", Greek "ο" and Latin "o"), a board is read in fonts we do
not choose, and right-to-left letters reorder the text around them. Telling all of those apart
needs the whole of Unicode's confusables table and its mixed-script rules; the ASCII set needs
four of its rows.

The key (``name_key``) is the name's skeleton in the sense of Unicode TR39 (Security Mechanisms,
section 4, "Confusable Detection"): each character replaced by the prototype it can be mistaken
for (before case is folded, so a capital I is read as the l it looks like), compared regardless
of case. The store keeps it in a column with a unique index, so two
accounts can never hold names that look alike, whatever requests race. Runs of the separators
(space, '.', '_', '-') count as one, so "a.b" and "a_b" are one name too.
"""

from __future__ import annotations

import re
import unicodedata

#: Unicode's confusables data (https://www.unicode.org/Public/security/latest/confusables.txt):
#: the rows whose source character may appear in a name. (Its other ASCII rows, for '"', '`'
#: and '|', map characters names cannot hold.)
PROTOTYPES = {"0": "O", "1": "l", "I": "l", "m": "rn"}
#: Names no account may take, nor any name that looks like them: they would speak for the
#: service, its operators or OpenAI, or read as a missing value.
RESERVED = (
    "admin",
    "administrator",
    "anonymous",
    "api",
    "codex",
    "codextime",
    "demo",
    "everyone",
    "help",
    "local",
    "moderator",
    "none",
    "null",
    "nobody",
    "official",
    "openai",
    "operator",
    "owner",
    "root",
    "security",
    "staff",
    "support",
    "system",
    "undefined",
)
#: Names that may not appear anywhere inside a name ("openai-team", "codextime_admin").
BRANDS = ("openai", "codextime")
MAX_LENGTH = 50
#: What a name may be, after NFKC normalisation and trimming.
SHAPE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,48}[A-Za-z0-9._-])?")
SEPARATORS = re.compile(r"[ ._-]+")
RULES = (
    f"a name has 1 to {MAX_LENGTH} letters A to Z, digits, spaces, '.', '_' or '-', "
    "starting with a letter or digit"
)


class NameRefused(ValueError):
    """A name that cannot be a display name; the message says why, in one line."""


def normal_form(name: str) -> str:
    """``name`` as it is stored and shown: NFKC, without surrounding spaces."""
    return unicodedata.normalize("NFKC", name).strip()


def name_key(name: str) -> str:
    """The look-alike key of ``name``: its TR39 skeleton, case-folded, separator runs as one.
    Two names with one key would be mistaken for each other; defined for any text (names made
    before these rules included)."""
    text = unicodedata.normalize("NFKC", name)
    # Twice: folding the case can make a character that has a prototype ("M" to "m").
    for _ in range(2):
        text = unicodedata.normalize("NFD", text)
        text = "".join(PROTOTYPES.get(c, c) for c in text).casefold()
    return SEPARATORS.sub("-", text)


def check_name(name: str) -> str:
    """``name`` in its normal form, or ``NameRefused`` saying why it cannot be a display name."""
    name = normal_form(name)
    if not SHAPE.fullmatch(name):
        raise NameRefused(RULES)
    keys = _looks(name)
    if keys & _RESERVED_KEYS or any(brand in key for key in keys for brand in _BRAND_KEYS):
        raise NameRefused(f"the name {name!r} is reserved")
    return name


def _looks(text: str) -> frozenset[str]:
    """The keys ``text`` can be read as, in the case it is written in and in other cases, with
    no separators: "OpenAI" reads as "openai" though its key (I as l) is "openal"."""
    variants = (text, text.casefold(), text.upper(), text.title())
    return frozenset(SEPARATORS.sub("", name_key(v)) for v in variants)


_RESERVED_KEYS = frozenset().union(*(_looks(word) for word in RESERVED))
_BRAND_KEYS = frozenset().union(*(_looks(word) for word in BRANDS))
