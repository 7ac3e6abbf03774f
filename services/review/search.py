"""Text search over what recipients typed: a word index, not a scan.

A ``LIKE '%…%'`` over every message reads the whole table on each search (100,000 conversations and
more), treats ``%`` and ``_`` as wildcards unless escaped, and on SQLite folds case for ASCII only.
So the indexer keeps, per conversation, the distinct *words* its recipient typed
(:class:`~services.review.models.ConversationWord`), taken from the text already masked (no NIK or
birth date is ever a search term), Unicode-normalised (NFKC) and case-folded. A search finds the
conversations that have, for every word of the query, a word starting with it ("vaksin" finds
"vaksinnya"): one index range per query word.

Words are stored as UTF-8 bytes: byte order is the same on SQLite and PostgreSQL whatever the
database collation, so "starts with" is the range ``[word, word + 0xFF)`` (no UTF-8 text contains
the byte 0xFF). A term of one character is a whole word ("2" in "dosis 2"), not the start of half
the vocabulary. Punctuation, ``%`` and ``_`` separate words; they are never patterns.

How the database should run a search depends on how common a term is, which SQLite cannot know:
a rare term is best read from the word index (a few rows, then sorted by recency); a common one
("vaksin": every other conversation) is best checked row by row while walking the list newest
first, which stops after one page. :func:`common_terms` counts a term's rows up to
:data:`COMMON_TERM_ROWS` (bounded), and :meth:`SearchQuery.condition` writes each term the way that
suits it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, intersect, select
from sqlalchemy.orm import Session

from core.handoff import EXTERNAL_MESSAGE_PREFIX
from services.review.models import ConversationWord, ReviewConversation

MAX_WORD_CHARACTERS = 32  # longer "words" (links, tokens) are kept by their start
MAX_QUERY_WORDS = 6
MAX_QUERY_LENGTH = 200
_WORD = re.compile(r"[^\W_]+")
_END = b"\xff"
COMMON_TERM_ROWS = 2_000  # a term with more index rows than this is checked row by row


def normalise(text: str) -> str:
    """What a word is compared as: compatibility-normalised and case-folded (ß = ss, Ｖ = v)."""
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str | None) -> list[str]:
    """The words of ``text`` in order (letters and digits; everything else separates)."""
    if not text or text.startswith(EXTERNAL_MESSAGE_PREFIX):
        return []
    return [word[:MAX_WORD_CHARACTERS] for word in _WORD.findall(normalise(text))]


def word_keys(texts: Iterable[str | None]) -> set[bytes]:
    """The distinct index keys of some messages."""
    return {word.encode("utf-8") for text in texts for word in words(text)}


@dataclass(frozen=True)
class SearchQuery:
    """What a reviewer typed in the search box, as index keys (``terms`` empty: nothing searchable)."""

    typed: str
    terms: tuple[str, ...]

    @classmethod
    def parse(cls, typed: str) -> SearchQuery:
        cleaned = " ".join(typed.split())[:MAX_QUERY_LENGTH]
        unique = list(dict.fromkeys(words(cleaned)))
        return cls(cleaned, tuple(unique[:MAX_QUERY_WORDS]))

    def condition(self, common: Collection[str] = ()) -> ColumnElement[bool]:
        """Conversations whose recipient typed every term (as a word or the start of one).

        A term in ``common`` is an EXISTS per row (the list's recency index drives the query and
        stops after a page); any other term an IN over its few index rows.
        """
        if not self.terms:
            return ReviewConversation.conversation_id.is_(None)  # nothing to search: no match
        found: list[ColumnElement[bool]] = []
        for term in self.terms:
            if term in common:
                found.append(
                    exists().where(
                        ConversationWord.conversation_id == ReviewConversation.conversation_id,
                        _word_matches(term),
                    )
                )
            else:
                found.append(
                    ReviewConversation.conversation_id.in_(
                        select(ConversationWord.conversation_id).where(_word_matches(term))
                    )
                )
        return and_(*found)

    def matches(self, text: str | None) -> bool:
        """Whether one message has a word starting with any term (to show why a row was found)."""
        found = words(text)
        return any(_starts(word, term) for term in self.terms for word in found)


def _starts(word: str, term: str) -> bool:
    return word == term if len(term) == 1 else word.startswith(term)


def _word_matches(term: str) -> ColumnElement[bool]:
    key = term.encode("utf-8")
    if len(term) == 1:
        return ConversationWord.word == key
    return and_(ConversationWord.word >= key, ConversationWord.word < key + _END)


def common_terms(session: Session, query: SearchQuery) -> set[str]:
    """The terms with more than COMMON_TERM_ROWS index rows (each count stops there)."""
    found: set[str] = set()
    for term in query.terms:
        rows = select(ConversationWord.conversation_id).where(_word_matches(term)).limit(COMMON_TERM_ROWS + 1)
        if (session.scalar(select(func.count()).select_from(rows.subquery())) or 0) > COMMON_TERM_ROWS:
            found.add(term)
    return found


def first_match(query: SearchQuery, texts: Sequence[str | None]) -> str | None:
    """The first of ``texts`` (masked messages, in order) that holds a search term."""
    return next((text for text in texts if text and query.matches(text)), None)


def count_matches(session: Session, query: SearchQuery) -> int:
    """How many conversations a search alone finds, read from the word index only (every word
    row belongs to a conversation): much cheaper than counting conversations for a common word."""
    selects = [select(ConversationWord.conversation_id).where(_word_matches(term)) for term in query.terms]
    if not selects:
        return 0
    found = selects[0].distinct() if len(selects) == 1 else intersect(*selects)
    return session.scalar(select(func.count()).select_from(found.subquery())) or 0
