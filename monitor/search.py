"""Search over a post's text and author: one interface, two engines. SQLite uses the FTS5 table
`post_search` (kept by triggers, migration web_1); PostgreSQL matches the GIN-indexed
`to_tsvector('simple', text || ' ' || author)`. Both match every word typed, as a prefix, with
accents ignored on SQLite ("zwrot" finds "zwrotu"); what a person types is never SQL or
query syntax, only words."""
from __future__ import annotations

import re
from typing import Any, Optional

from sqlalchemy import false, text
from sqlmodel import Session, col, select

from models import Post

MAX_WORDS = 8
FEW_MATCHES = 500
# The expression PostgreSQL's index ix_post_search covers (migration web_1): written the same here.
PG_DOCUMENT = "to_tsvector('simple', coalesce(post.text, '') || ' ' || coalesce(post.author_handle, ''))"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(query: str) -> list[str]:
    """The words of what a person typed (letters and digits only), at most `MAX_WORDS`."""
    return [w.lower() for w in _WORD.findall(query or "")][:MAX_WORDS]


def matching_clause(session: Session, query: str) -> Optional[Any]:
    """A WHERE clause on Post for `query`, or None when it has no words (then nothing is filtered)."""
    found = words(query)
    if not found:
        return None
    if session.get_bind().dialect.name == "postgresql":
        terms = " & ".join(f"{w}:*" for w in found)
        matches = text(f"{PG_DOCUMENT} @@ to_tsquery('simple', :terms)").bindparams(terms=terms)
        # Few matches: read them from the GIN index and filter by id (the urgency walk would
        # otherwise test every post). Many: test as the walk goes, it fills a page quickly.
        few = list(session.exec(select(Post.id).where(matches).limit(FEW_MATCHES + 1)))
        if len(few) <= FEW_MATCHES:
            return col(Post.id).in_(few) if few else false()
        return matches
    terms = " ".join(f'"{w}"*' for w in found)
    return col(Post.id).in_(text("SELECT rowid FROM post_search WHERE post_search MATCH :terms")
                            .bindparams(terms=terms))
