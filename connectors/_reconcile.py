"""The exact reconciliation rule of the connectors that can read who answered what (Allegro, VK,
YouTube, Trustpilot): a reply settles an uncertain post only if it answers that exact item, from
the shop's account, with the approved text. A shop reply with any other text means someone
answered by hand (or the text was changed): that is for a person to judge, never a reason to
post again, so it is an error (the outbox leaves the row to a person)."""
from __future__ import annotations

from typing import Iterable, Optional

from connectors.base import ConnectorError


def same_text(posted: str, approved: str) -> bool:
    """Platforms keep the text but may trim it or turn line ends into \\n."""
    normal = lambda text: "\n".join(line.rstrip() for line in str(text).replace("\r\n", "\n").split("\n")).strip()  # noqa: E731
    return normal(posted) == normal(approved)


def settle(shop_replies: Iterable[tuple[str, str]], approved: str, where: str) -> Optional[str]:
    """`shop_replies`: (reply id, text) of the shop's replies to this exact item. The id of the one
    carrying the approved text; None when there is none; an error when the shop answered otherwise."""
    others = 0
    for reply_id, text in shop_replies:
        if same_text(text, approved):
            return reply_id
        others += 1
    if others:
        raise ConnectorError(f"{where}: the shop already answered this item with a different text "
                             f"({others} repl{'y' if others == 1 else 'ies'}); a person must decide")
    return None
