"""Deprecated home of the label helpers: they live in :mod:`interpkit.validation` now.

Kept so that code written against ``interpkit.labels`` (and ``train.py`` until the training
package moves) keeps importing; new code imports from :mod:`interpkit.validation`.
"""

from __future__ import annotations

from .validation import (
    ROLES,
    SentimentRoles,
    find_sentiment_roles,
    is_sentiment_pair,
    normalise_label_map,
    sentiment_roles,
    target_indices,
)
from .validation import resolve_label as class_index
from .validation import resolve_labels as class_indices

__all__ = [
    "ROLES",
    "SentimentRoles",
    "class_index",
    "class_indices",
    "find_sentiment_roles",
    "is_sentiment_pair",
    "normalise_label_map",
    "sentiment_roles",
    "target_indices",
]
