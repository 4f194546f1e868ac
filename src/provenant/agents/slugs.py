"""How an agent's name becomes its slug: the one rule, applied by the server alone.

The dashboard's New Agent and every SDK's get-or-create send a name; the server derives the slug, so the agent
made in one is the agent the other finds. A slug stays in the contract's ASCII shape (``SLUG_PATTERN``: safe in
URLs, shells and file names, and the shape every existing slug has), so a name is spelled in ASCII:

- accents are dropped (``Café`` → ``cafe``), Latin letters that Unicode does not decompose are spelled as their
  languages do (``Straße`` → ``strasse``, ``Ærø`` → ``aero``, ``Łódź`` → ``lodz``), and every run of anything
  else (spaces, punctuation, emoji) becomes one ``-``: ``"Support Bot (EU) 🤖"`` → ``support-bot-eu``;
- a name with letters or digits that have no ASCII spelling (``Бот 2``, ``日本語``) keeps what ASCII can spell
  (or ``agent``) and gains 8 hex digits of a hash of the name: ``2-59e4e790``. Dropping those letters would
  give ``Бот 2`` and ``Агент 2`` the same slug, and get-or-create would hand one the other's agent;
- a name without a letter or digit (``🤖``, ``!!!``) has no slug (``""``): the API refuses it, as it always did.

Names the earlier rule spelled whole (ASCII, accented Latin) keep the slug they had.
"""

import hashlib
import re
import unicodedata

MAX_LENGTH = 64
_HASH_LENGTH = 8

# Lowercase Latin letters that NFKD leaves whole, as their languages spell them without the letter.
_SPELLED = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l", "\u0131": "i", "ħ": "h",
     "ŧ": "t", "ŋ": "ng", "ĸ": "k", "ŀ": "l", "ƒ": "f"}
)  # fmt: skip
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_NOT_WORD = re.compile(r"[\W_]+")


def slugify(name: str) -> str:
    """The slug of an agent named ``name``: ``"Straße Bot"`` → ``"strasse-bot"``; ``""`` when it has none."""
    folded = unicodedata.normalize("NFKD", name).lower().translate(_SPELLED)
    spelled = _NOT_ALPHANUMERIC.sub("-", folded.encode("ascii", "ignore").decode()).strip("-")
    unspelled = any(char.isalnum() and not char.isascii() for char in folded)
    if not unspelled:
        return _cut(spelled, MAX_LENGTH)
    keep = _cut(spelled, MAX_LENGTH - _HASH_LENGTH - 1) or "agent"
    return f"{keep}-{_name_hash(name)}"


def pre_transliteration_slug(name: str) -> str:
    """The slug the server derived before ``slugify`` spelled ``ß`` and kept other scripts apart (it dropped
    them: ``Straße Bot`` → ``strae-bot``), so that get-or-create still finds agents made that way."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _cut(_NOT_ALPHANUMERIC.sub("-", ascii_name.lower()).strip("-"), MAX_LENGTH)


def _cut(slug: str, length: int) -> str:
    return slug[:length].rstrip("-")


def _name_hash(name: str) -> str:
    # Names that differ only in case, spacing or punctuation are one agent, as they are for ASCII names.
    words = _NOT_WORD.sub("-", unicodedata.normalize("NFKC", name).casefold()).strip("-")
    return hashlib.sha256(words.encode()).hexdigest()[:_HASH_LENGTH]
