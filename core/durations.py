"""How long something lasts, in the words a recipient reads ("1 jam 30 menit").

The registry says how long a lock lasts in its API answer and the action server says it in the chat;
both use this one function so the two never disagree.
"""

from __future__ import annotations


def format_duration(seconds: int) -> str:
    """Whole minutes, rounded up, in Indonesian: "1 jam", "45 menit", "1 jam 30 menit"."""
    minutes = max(1, -(-seconds // 60))
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{hours} jam"] if hours else []) + ([f"{minutes} menit"] if minutes else [])
    return " ".join(parts)
