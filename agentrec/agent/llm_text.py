"""The model's free text, made safe to show: no hidden reasoning, no injected orders, no item the guard refused.

:class:`ReplyGate` receives the model's text as it streams (its plain content and the ``message`` argument of its
final answer, read from the partial JSON with :func:`partial_json_string`), cuts ``<think>`` blocks out, and
splits the rest into sentences. A sentence that names no item of this turn and carries no instruction-like text
is passed on at once; from the first one that does, everything is held until the guard has spoken
(:meth:`ReplyGate.finish`), and then only sentences that name accepted items (or items the user named) are kept.
So what streams is exactly a prefix of the final text, and neither names an item the guard did not accept.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable

__all__ = ["INJECTION", "ReplyGate", "TitleMatcher", "partial_json_string", "strip_think", "title_spans"]

INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(?:instructions?|rules|prompt|guidelines)\b"
    r"|\bsystem prompt\b|\byou are now\b|\bnew instructions?\b|\brecommend item\b|<\s*/?\s*(?:system|tool|im_start)",
    re.IGNORECASE,
)
_THINK_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+|\n+")
_TITLE_YEAR = re.compile(r"([A-Z0-9][^\n.!?()]{1,70}?)\s*\((1[89]\d\d|20\d\d)\)")
_ID_MENTION = re.compile(r"\b(?:item(?:_id)?|id)\s*[=:#]?\s*([A-Za-z0-9_-]+)", re.IGNORECASE)
_CAP_WORD = re.compile(r"[A-Z0-9][\w'’&:!-]*")
_LINK_WORDS = {"of", "the", "and", "a", "an", "in", "on", "to", "for", "with", "at", "from", "&", "-"}
_INTERNALS = re.compile(r"Returning structured response|RecommendationList|\"item_id\"|tool_call", re.IGNORECASE)


def strip_think(text: str) -> str:
    """``text`` without ``<think>…</think>`` blocks (an unclosed one runs to the end) and stray closing tags."""
    out: list[str] = []
    pos = 0
    while True:
        m = _THINK_OPEN.search(text, pos)
        if m is None:
            out.append(text[pos:])
            break
        out.append(text[pos : m.start()])
        end = _THINK_CLOSE.search(text, m.end())
        if end is None:
            break
        pos = end.end()
    return _THINK_CLOSE.sub("", "".join(out))


def partial_json_string(args: str, key: str) -> str | None:
    """The (possibly still growing) string value of ``key`` in a JSON object that is still being streamed.

    Returns None until the value has started; an escape cut off at the end is left out until it completes.
    """
    m = re.search(r'"' + re.escape(key) + r'"\s*:\s*"', args)
    if m is None:
        return None
    out: list[str] = []
    i = m.end()
    while i < len(args):
        ch = args[i]
        if ch == '"':
            break
        if ch == "\\":
            esc = args[i : i + 6] if args[i + 1 : i + 2] == "u" else args[i : i + 2]
            if len(esc) < 2 or (esc.startswith("\\u") and len(esc) < 6):
                break  # cut off mid-escape: wait for the rest
            try:
                out.append(json.loads(f'"{esc}"'))
            except ValueError:
                out.append(esc[1:])
            i += len(esc)
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class TitleMatcher:
    """Finds which of a set of item titles a sentence names (whole words, case-insensitive, year optional).

    Args:
        titles: item key -> title (keys are returned for matches); titles shorter than 4 characters are ignored.
    """

    def __init__(self, titles: dict[str, str]) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for key, title in titles.items():
            core = re.sub(r"\s*\((?:1[89]|20)\d\d\)\s*$", "", str(title)).strip()
            core = re.sub(r"^(?:the|a|an)\s+", "", core, flags=re.IGNORECASE)
            core = re.sub(r",\s*(?:the|a|an)$", "", core, flags=re.IGNORECASE)
            if len(core) >= 4:
                self._patterns.append((key, re.compile(r"(?<!\w)" + re.escape(core) + r"(?!\w)", re.IGNORECASE)))

    def named(self, sentence: str) -> set[str]:
        """Keys of the titles ``sentence`` names."""
        return {key for key, pat in self._patterns if pat.search(sentence)}


def title_spans(sentence: str, max_words: int = 8) -> list[str]:
    """Word runs of ``sentence`` that could be a title: capitalised words, joined by small linking words.

    Every sub-run that starts and ends with a capitalised word is returned; a lone word only when it is not the
    first of the sentence and has at least five characters (so "Here", "Heat" at the start are not titles).
    """
    words = sentence.replace("*", " ").replace('"', " ").split()
    out: list[str] = []
    run: list[tuple[int, str]] = []

    def flush() -> None:
        while run and run[-1][1].lower() in _LINK_WORDS:
            run.pop()
        for a in range(len(run)):
            if run[a][1].lower() in _LINK_WORDS:
                continue
            for b in range(a, min(len(run), a + max_words)):
                if run[b][1].lower() in _LINK_WORDS:
                    continue
                if a == b and (run[a][0] == 0 or len(run[a][1].strip(".,;:!?")) < 5):
                    continue
                out.append(" ".join(w for _, w in run[a : b + 1]).strip(".,;:!?'’()"))
        run.clear()

    for n, word in enumerate(words):
        if _CAP_WORD.match(word) or (run and word.lower() in _LINK_WORDS):
            run.append((n, word))
            if re.search(r"[.,;:!?)]$", word):
                flush()
        else:
            flush()
    flush()
    return out


class ReplyGate:
    """Streams safe sentences of the model's text and holds back the rest until :meth:`finish` decides.

    Args:
        emit: receives each piece of text to show (None: nothing is streamed, only :meth:`finish`'s text).
        turn_titles: returns item id -> title for the items this turn's tools handed out (read when needed,
            as the turn grows).
        safe_text: text whose titles may always be named (the user's message, what they liked).
        catalog_ids: the ids of the catalogue items with exactly this title (any title of the catalogue, so a
            model naming an item no tool returned is caught too); None to check only this turn's items.
    """

    def __init__(
        self,
        emit: Callable[[str], None] | None,
        turn_titles: Callable[[], dict[str, str]],
        safe_text: str = "",
        catalog_ids: Callable[[str], list[str]] | None = None,
    ) -> None:
        self._emit = emit
        self._turn_titles = turn_titles
        self._safe_text = safe_text
        self._catalog_ids = catalog_ids
        self._lock = threading.Lock()
        self._segments: dict[str, str] = {}  # segment key -> raw text so far
        self._emitted: list[str] = []  # sentences passed on, in order
        self._holding = False
        self.removed: list[str] = []

    # ------------------------------------------------------------------ streaming
    def set_text(self, key: str, raw: str) -> None:
        """The whole raw text of segment ``key`` so far (a model message, or its final answer's ``message``)."""
        with self._lock:
            self._segments[key] = raw
            if self._emit is None or self._holding:
                return
            sentences = self._sentences(complete_only=True)
            for sentence in sentences[len(self._emitted) :]:
                if self._risky(sentence):
                    self._holding = True
                    break
                self._send(sentence)

    def _send(self, sentence: str) -> None:
        sep = "" if not self._emitted else ("\n\n" if sentence.startswith("\x00") else " ")
        self._emitted.append(sentence)
        if self._emit is not None:
            self._emit(sep + sentence.lstrip("\x00"))

    def _sentences(self, *, complete_only: bool) -> list[str]:
        out: list[str] = []
        last = len(self._segments) - 1
        for n, raw in enumerate(self._segments.values()):
            text = strip_think(raw)
            parts = [p.strip() for p in _SENTENCE_END.split(text)]
            # Only the newest segment may still be growing: its last sentence waits for its end.
            if complete_only and n == last and not re.search(r"[.!?][\"')\]]?\s+$|\n$", text):
                parts = parts[:-1]  # the last sentence is still being written
            parts = [p for p in parts if p]
            if n and parts:
                parts[0] = "\x00" + parts[0]  # a new segment: a paragraph break before it
            out += parts
        return out

    def _risky(self, sentence: str) -> bool:
        if INJECTION.search(sentence) or _INTERNALS.search(sentence) or _TITLE_YEAR.search(sentence):
            return True
        titles = self._turn_titles()
        if any(m.group(1) in titles for m in _ID_MENTION.finditer(sentence)):
            return True
        named = TitleMatcher(titles).named(sentence)
        return bool(named - self._safe_ids(named)) or bool(self._catalogue_named(sentence, {}))

    def _catalogue_named(self, sentence: str, accepted: dict[str, str]) -> list[str]:
        """Catalogue titles in ``sentence`` of items neither accepted nor named by the user."""
        if self._catalog_ids is None:
            return []
        bad = []
        safe = self._safe_text.lower()
        for span in title_spans(sentence):
            ids = self._catalog_ids(span)
            if ids and not set(ids) & set(accepted) and span.lower() not in safe:
                bad.append(span)
        return bad

    def _safe_ids(self, ids: Iterable[str]) -> set[str]:
        titles = self._turn_titles()
        safe = TitleMatcher({i: titles[i] for i in ids if i in titles}).named(self._safe_text)
        return safe

    # ------------------------------------------------------------------ the end
    def finish(self, accepted: dict[str, str], segments: Iterable[tuple[str, str]] = ()) -> str:
        """The final text; the part not streamed yet is passed on now.

        It keeps every sentence that names only accepted (or user-named) items and carries no instruction-like
        text or internals.

        Args:
            accepted: item id -> title of the items the guard accepted.
            segments: (key, raw text) to set before deciding (a final answer read whole, not streamed).
        """
        with self._lock:
            for key, raw in segments:
                self._segments[key] = raw
            kept: list[str] = []
            for sentence in self._sentences(complete_only=False):
                if self._keep(sentence, accepted):
                    kept.append(sentence)
                else:
                    self.removed.append(sentence.lstrip("\x00"))
            start = 0
            while start < len(self._emitted) and start < len(kept) and kept[start] == self._emitted[start]:
                start += 1
            for sentence in kept[start:]:
                self._send(sentence)
            text = ""
            for n, sentence in enumerate(kept):
                sep = "" if n == 0 else ("\n\n" if sentence.startswith("\x00") else " ")
                text += sep + sentence.lstrip("\x00")
            return text.strip()

    def _keep(self, sentence: str, accepted: dict[str, str]) -> bool:
        if INJECTION.search(sentence) or _INTERNALS.search(sentence):
            return False
        titles = {**self._turn_titles(), **accepted}
        named = TitleMatcher(titles).named(sentence)
        bad = named - set(accepted) - self._safe_ids(named)
        if bad or self._catalogue_named(sentence, accepted):
            return False
        ok_titles = TitleMatcher(accepted)
        for m in _TITLE_YEAR.finditer(sentence):  # "Knives Out (2019)": a title the guard did not accept
            if not ok_titles.named(m.group(0)) and not TitleMatcher({"s": m.group(1)}).named(self._safe_text):
                return False
        for m in _ID_MENTION.finditer(sentence):
            if m.group(1) in titles and m.group(1) not in accepted:
                return False
        return True
