"""The leakage guard: does a simulated user's message name the target title, or a close variant of it.

A title such as ``"City of Lost Children, The (Cité des enfants perdus, La)"`` has several forms a user might
write: the title with its article moved back to the front, without the article, the alternative title in
parentheses, and the main title before a subtitle (``"Star Wars: Episode IV - A New Hope"`` -> ``"star wars"``).
A message leaks when any of these forms appears in it, exactly (word boundaries) or fuzzily (a window of the
message's words whose similarity ratio with the form is at least ``cutoff``).
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

__all__ = ["leaks", "title_variants"]

_ARTICLES = ("the", "a", "an", "la", "le", "les", "el", "il", "der", "die", "das", "l'")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"&", " and ", text)
    text = re.sub(r"[^a-z0-9']+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def title_variants(title: str) -> set[str]:
    """Normalised forms of a title a user could write (article moved or dropped, alternative, main title).

    Args:
        title: the catalogue title, MovieLens style ("Matrix, The (1999)" is accepted too).

    Returns:
        Lower-case, punctuation-free variants; forms shorter than two characters are left out.
    """
    raw = re.sub(r"\(\s*(?:19|20)\d{2}\s*\)", " ", title)
    parts = [re.sub(r"\([^)]*\)", " ", raw)]
    parts += [re.sub(r"^(?:a\.k\.a\.|aka)\s*", "", p.strip()) for p in re.findall(r"\(([^)]*)\)", raw)]
    out: set[str] = set()
    for part in parts:
        part = part.strip()
        m = re.match(r"^(.*),\s*(the|a|an|la|le|les|el|il|der|die|das|l')\s*$", part, flags=re.IGNORECASE)
        forms = [part]
        if m:
            forms += [f"{m.group(2)} {m.group(1)}", m.group(1)]
        for form in list(forms):
            main = re.split(r"\s*[:\-–—]\s+|:\s*", form, maxsplit=1)[0]
            if main != form:
                forms.append(main)
        for form in forms:
            n = _norm(form)
            words = n.split()
            if words and words[0] in _ARTICLES and len(words) > 1:
                out.add(" ".join(words[1:]))
            out.add(n)
    return {v for v in out if len(v) >= 2}


def leaks(message: str, title: str, *, cutoff: float = 0.85) -> bool:
    """True when ``message`` contains ``title`` or a close variant of it.

    Args:
        message: what the simulated user would say.
        title: the target's catalogue title.
        cutoff: similarity ratio (``difflib``) from which a window of words counts as a variant; variants of
            four characters or fewer, and the catalogue's article-last order ("firm the"), must match exactly
            (word boundaries), so "Up" does not match "cup" nor "from the 1990s" "Firm, The".

    Returns:
        Whether the message would give the title away.
    """
    if not 0 < cutoff <= 1:
        raise ValueError(f"cutoff must lie in (0, 1], got {cutoff!r}")
    text = _norm(message)
    words = text.split()
    padded = f" {text} "
    for variant in title_variants(title):
        if f" {variant} " in padded:
            return True
        if len(variant) <= 4 or variant.rsplit(" ", 1)[-1] in _ARTICLES:
            # Short forms, and the catalogue's "firm the" order nobody types, only count exactly: fuzzily,
            # "from the 1990s" would give away "Firm, The".
            continue
        n = len(variant.split())
        for size in {max(1, n - 1), n, n + 1}:
            for start in range(0, max(len(words) - size + 1, 0)):
                window = " ".join(words[start : start + size])
                if abs(len(window) - len(variant)) > max(3, len(variant) // 4):
                    continue
                if SequenceMatcher(None, window, variant).ratio() >= cutoff:
                    return True
    return False
