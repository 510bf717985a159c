"""The ``Agent``: one entry point for the Python API, the CLI, the app and the evaluation.

Without an LLM configured every turn runs the offline planner (labelled ``mode="offline"``); with one,
``chat`` delegates the turn to :class:`agentrec.agent.llm.LLMAgent`, passes its proposals through the same
guard, fills up deterministically, and falls back to the planner when the LLM is unusable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentrec.agent.compose import compose_reply, item_facets
from agentrec.agent.guard import Guard
from agentrec.agent.justify import describe_filters, propose
from agentrec.agent.llm_turn import llm_phase
from agentrec.agent.memory import soft_rerank
from agentrec.agent.planner import parse_request
from agentrec.agent.profiles import restore_profile, stored_profile
from agentrec.agent.session import (
    ConversationState,
    ProfileStore,
    SessionLocks,
    SessionStore,
    apply_request,
    conflict_reply,
)
from agentrec.agent.streaming import stream_turn
from agentrec.agent.toolbox import Components, Toolbox
from agentrec.agent.types import GuardReport, Reply, StreamEvent, TraceEvent
from agentrec.config import AgentConfig
from agentrec.packs import load_pack
from agentrec.retrieve.similar import rerank_by_similarity
from agentrec.types import Candidate, Query, Recommendation

__all__ = ["MAX_MESSAGE_CHARS", "Agent"]

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
MAX_K = 50
RERANK_DEPTH = 40  # candidates considered when reranking for "like <title>" / "more like the second one"
RERANK_WEIGHT = 0.5  # similarity share in the "like X" rerank (bench/answer_quality.py)


class Agent:
    """A conversational recommender over one dataset's components.

    Args:
        components: ``agentrec.artifacts.Components`` (catalog, train, retriever, explainer, ...).
        config: LLM settings; ``AgentConfig()`` (no model) runs the offline planner.
        llm: an ``LLMAgent`` to use instead of building one from ``config``.
        profiles_path: a SQLite file for opt-in per-user profiles (None: nothing is persisted).
        max_sessions: conversations kept in memory (least recently used are dropped).
    """

    def __init__(
        self,
        components: Components,
        config: AgentConfig | None = None,
        llm: Any = None,
        *,
        profiles_path: str | Path | None = None,
        max_sessions: int = 1000,
    ) -> None:
        self.components = components
        self.config = config if config is not None else AgentConfig()
        self.toolbox = Toolbox(components)
        self.guard = Guard(self.toolbox)
        self.sessions = SessionStore(max_sessions)
        self.profiles = ProfileStore(profiles_path) if profiles_path is not None else None
        self._llm = llm
        # Turns of different conversations run at the same time (each on a toolbox view bound to its own turn);
        # turns of one conversation take turns, as they read and write its memory.
        self._locks = SessionLocks(max_sessions)
        self._locks_guard = threading.Lock()
        pack = self.toolbox.pack
        examples = pack.examples or load_pack("generic").examples
        self._ask = f"Tell me what you'd like to {pack.verb}, e.g. " + ", ".join(f'"{e}"' for e in examples[:3])

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(
        cls,
        dataset: str | Path = "ml-latest-small",
        *,
        data_dir: str | Path | None = None,
        artifacts_dir: str | Path | None = None,
        config: AgentConfig | None = None,
        build_missing: bool = True,
        profiles_path: str | Path | None = None,
        show_progress: bool = False,
        torch_threads: int | None = None,
    ) -> Agent:
        """Load (building what is missing) a dataset's components and wrap them in an agent.

        Args:
            dataset: a dataset name (``"ml-latest-small"``, or one given to ``agentrec.data.register_dataset``), a
                dataset spec file (``.toml``), or a built artifacts directory of one dataset (``<artifacts>/<name>``).
            data_dir: where raw datasets live (default ``AGENTREC_DATA_DIR`` or the user cache).
            artifacts_dir: where built artifacts live (default ``AGENTREC_ARTIFACTS_DIR`` or the user cache).
            config: LLM settings (default ``AgentConfig.from_env()``).
            build_missing: build data, embeddings, index and retriever when absent (else raise).
            profiles_path: SQLite file or database URL for per-user profiles (default ``AGENTREC_PROFILES_URL``).
            show_progress: progress bars while building.
            torch_threads: PyTorch threads for answering (None: ``AGENTREC_TORCH_THREADS``, default 1; 0 keeps
                PyTorch's default). One thread keeps many small requests fast on a few shared cores.
        """
        from agentrec.artifacts import load_components
        from agentrec.config import profiles_url_from_env

        # Names, spec files and artifacts folders are told apart by load_components (agentrec.data.resolve_dataset).
        comps = load_components(
            dataset,
            data_dir=data_dir,
            artifacts_dir=artifacts_dir,
            build_missing=build_missing,
            show_progress=show_progress,
            torch_threads=torch_threads,
        )
        profiles = profiles_path if profiles_path is not None else profiles_url_from_env()
        return cls(comps, config=config if config is not None else AgentConfig.from_env(), profiles_path=profiles)

    @property
    def mode(self) -> str:
        """``"offline"`` or ``"llm:<model>"``."""
        return f"llm:{self.config.model}" if self.config.llm_enabled else "offline"

    def _llm_agent(self) -> Any:
        with self._locks_guard:
            if self._llm is None:
                from agentrec.agent.llm import LLMAgent

                name = getattr(self.components, "name", "catalogue")
                self._llm = LLMAgent(self.config, self.toolbox, catalog_name=str(name))
            return self._llm

    def _session_lock(self, session: str) -> threading.Lock:
        """The lock that serialises the turns of one conversation (created on first use)."""
        return self._locks.get(session)

    # ------------------------------------------------------------------ public API
    def recommend(self, query: str | Query, user: str | None = None, k: int = 10) -> list[Recommendation]:
        """Recommendations for one request, without conversation memory.

        Args:
            query: what the user wants in words, or a ready :class:`~agentrec.types.Query`.
            user: a known user id to personalise for (ignored when ``query`` is a ``Query``).
            k: how many recommendations (1..50).

        Returns:
            Up to ``k`` validated recommendations, each with a reason and its evidence paths.
        """
        k = _check_k(k)
        if isinstance(query, Query):
            tools = self.toolbox.bind(self.toolbox.new_turn(None, text=query.text))
            return self._offline_ranking(tools, query, k=query.k)
        state = ConversationState(k=k)  # no memory: nothing shared with other calls, so no lock
        return self._turn(state, str(query), user).recommendations

    def chat(self, message: str, session: str = "default", user: str | None = None) -> Reply:
        """Answer one message of a conversation; memory carries over between calls with the same ``session``."""
        with self._session_lock(session):
            return self._turn(self.sessions.get(session), message, user)

    def stream(self, message: str, session: str = "default", user: str | None = None) -> Iterator[StreamEvent]:
        """Like :meth:`chat`, but yields events as they happen.

        Yields ``tool`` and ``token`` events, then ``recommendations`` (data: the list) and ``done`` (data: the
        :class:`Reply`); an ``error`` event instead when the turn fails.
        """
        return stream_turn(self, message, session, user)

    def reset(self, session: str = "default") -> None:
        """Forget a conversation."""
        self.sessions.reset(session)

    def feedback(self, session: str, item_id: str, liked: bool) -> None:
        """Record a like / dislike from the UI for a conversation (and the user's profile when enabled)."""
        idx = self.components.catalog.id_to_index.get(str(item_id))
        if idx is None:
            raise ValueError(f"item_id {item_id!r} is not in the catalogue; pass an id from a recommendation")
        with self._session_lock(session):
            state = self.sessions.get(session)
            state.like(idx) if liked else state.dislike(idx)
            self._save_profile(state)

    # ------------------------------------------------------------------ one turn
    def _turn(self, state: ConversationState, message: str, user: str | None, on_event: Any = None) -> Reply:
        """One turn; the caller holds the conversation's lock (or owns ``state`` alone)."""
        before = state.snapshot()
        try:
            return self._turn_locked(state, message, user, on_event)
        except Exception as exc:
            # Nothing is lost: restore the conversation as it was, then say what happened.
            logger.exception("agent turn failed")
            state.restore(before)
            return Reply(
                text=f"Sorry, something went wrong answering that ({type(exc).__name__}: {exc}). "
                "Your conversation is unchanged; please rephrase or try again.",
                recommendations=[],
                trace=[TraceEvent("error", type(exc).__name__, str(exc))],
                mode=self.mode,
            )

    def _turn_locked(self, state: ConversationState, message: str, user: str | None, on_event: Any) -> Reply:
        text = message if isinstance(message, str) else str(message)
        notes: list[str] = []
        if user is not None and str(user) != state.user_id:
            uid = str(user).strip()
            if self.toolbox.is_known_user(uid):
                state.user_id = uid
                self._load_profile(state)
            else:
                notes.append(f"Unknown user id {uid!r}: I'm recommending without a personal history.")
        bad_input = self._input_problem(text, notes)
        if bad_input is not None:
            return bad_input
        parsed = parse_request(text, self.toolbox.lexicon, self.toolbox.titles, last_shown=len(state.last_shown))
        trace = [TraceEvent("note", "planner", "; ".join(parsed.mentions) or "no constraint recognised")]
        if parsed.conflicts:
            state.add_message("user", text)
            reply_text = conflict_reply(parsed.conflicts)
            state.add_message("assistant", reply_text)
            return Reply(reply_text, [], trace, self.mode, notes + list(parsed.notes))
        state.add_message("user", text)
        seeds, memo_notes = apply_request(state, parsed, self.toolbox, max_k=MAX_K)
        request = parsed.request
        notes += [*parsed.notes, *request.unapplied, *request.notes, *memo_notes]
        query = self._query(state, state.wish.text or parsed.text, seeds)
        phase = llm_phase(self, state, text, seeds, query, trace, notes, on_event)
        recs, usage, llm_text, mode, tools = phase.recs, phase.usage, phase.text, phase.mode, phase.tools
        if phase.fill:
            recs += self._fill(tools, state, query, seeds, recs)
        trace += tools.trace
        for note in tools.notes:
            if note not in notes and not note.startswith("unknown user"):
                notes.append(note)
        state.last_shown = [r.item_index for r in recs]
        state.shown = list(dict.fromkeys([*state.shown, *state.last_shown]))
        state.focus = None
        reply_text = self._compose(recs, query, notes, llm_text, mode)
        state.add_message("assistant", reply_text)
        self._save_profile(state)
        if on_event is not None:
            on_event(StreamEvent("tool", "guard", data={"accepted": len(recs)}))
        return Reply(reply_text, recs, trace, mode, notes, query, usage)

    def _fill(
        self, tools: Toolbox, state: ConversationState, query: Query, seeds: list[int], recs: list[Recommendation]
    ) -> list[Recommendation]:
        """Deterministic recommendations after ``recs``, up to ``query.k`` (new items first, then shown ones)."""
        if len(recs) >= query.k:
            return []
        taken = {r.item_index for r in recs}
        out = self._offline_ranking(tools, query, k=query.k, exclude=taken, state=state, similar_to=seeds)
        out = out[: query.k - len(recs)]
        if len(recs) + len(out) < query.k and state.shown:
            # Not enough new items: items shown earlier (never rejected ones) may come back.
            again = self._query(state, query.text, seeds, fresh=False)
            taken |= {r.item_index for r in out}
            more = self._offline_ranking(tools, again, k=query.k, exclude=taken, state=state, similar_to=seeds)
            out += more[: query.k - len(recs) - len(out)]
            if more:  # say what happened instead of the first pass's "everything is already seen"
                notes = tools.notes
                notes[:] = [n for n in notes if not n.startswith("every item that satisfies the filters is already")]
                notes.append("Few new items fit, so some you were shown before are back (none you turned down).")
        return out

    def _input_problem(self, text: str, notes: list[str]) -> Reply | None:
        """The reply to an empty or over-long message, or None when the message can be read."""
        if not text.strip():
            why, detail = f"{self._ask}.", "empty message"
        elif len(text) > MAX_MESSAGE_CHARS:
            why = (
                f"Your message is {len(text)} characters long; please keep it under {MAX_MESSAGE_CHARS} characters. "
                f"{self._ask}."
            )
            detail = f"message too long ({len(text)} characters)"
        else:
            return None
        return Reply(why, [], [TraceEvent("note", "input", detail)], self.mode, notes=notes)

    def _query(self, state: ConversationState, text: str, seeds: list[int], *, fresh: bool = True) -> Query:
        """The turn's query; with ``fresh`` the items already shown in the conversation are left out too."""
        liked = tuple(seeds) if seeds else tuple(state.liked)
        seen = tuple(dict.fromkeys([*state.seen, *state.liked, *(state.shown if fresh else ())]))
        return Query(
            text=text,
            user_id=state.user_id,
            liked_items=liked,
            filters=state.filters,
            seen=tuple(i for i in seen if i not in liked),
            rejected=state.blocked,
            k=state.k,
        )

    def _offline_ranking(
        self,
        tools: Toolbox,
        query: Query,
        *,
        k: int,
        exclude: set[int] | None = None,
        state: ConversationState | None = None,
        similar_to: Sequence[int] = (),
    ) -> list[Recommendation]:
        """The deterministic ranking: retrieve, (rerank), explain, justify, guard.

        ``similar_to``: items the user pointed at this turn ("like Alien", "more like the second one"); the
        candidates are then reranked by their retrieval rank blended with genre / tag overlap with those items.
        """
        extra = 5
        soft = state is not None and bool(state.wish.prefer or state.wish.avoid or state.wish.avoid_terms)
        if similar_to or soft:
            extra = max(extra, RERANK_DEPTH)
        max_k = int(getattr(getattr(tools.retriever, "config", None), "max_k", 200))
        want = min(k + len(exclude or ()) + extra, max_k)
        result = tools.retrieve(Query(**{**query.__dict__, "k": want}), tool="planner")
        cands = [c for c in result.artifact if c.item_index not in (exclude or set())]
        if similar_to:
            cands = self._rerank_similar(tools, cands, similar_to)
        if state is not None:
            cands = soft_rerank(cands, state.wish, tools)
        # Explain only as many candidates as needed: the retriever already enforces the hard filters, so the
        # guard rarely drops one; when it does, the next candidates are explained and checked.
        report = GuardReport()
        turn = tools.turn
        start = 0
        while len(report.accepted) < k and start < len(cands):
            chunk = cands[start : start + k - len(report.accepted)]
            start += len(chunk)
            part = self.guard.validate(
                propose(tools, chunk, query, limit=len(chunk)),
                query,
                k=k - len(report.accepted),
                turn=turn,
            )
            report.accepted += part.accepted
            report.rejected += part.rejected
        tools.trace.append(
            TraceEvent("guard", "guard", f"{len(report.accepted)} accepted, {len(report.rejected)} rejected",
                       {"rejected": [(p.item_id, why) for p, why in report.rejected]})
        )  # fmt: skip
        return report.accepted

    def _rerank_similar(self, tools: Toolbox, cands: list[Candidate], seeds: Sequence[int]) -> list[Candidate]:
        """Blend retrieval rank with similarity to the seed items (co-interaction, genres / tags, text).

        Uses the retriever's :class:`~agentrec.retrieve.similar.SimilarItems` when it has one, else Jaccard
        overlap of genres + tags.
        """
        scorer = getattr(tools.retriever, "similar", None)
        if scorer is not None:
            sims = scorer.scores(seeds)
        else:
            catalog = self.components.catalog

            def attrs(i: int) -> set[str]:
                it = catalog[i]
                return {f"g:{g.lower()}" for g in it.genres} | {f"t:{t.lower()}" for t in it.tags}

            seed_attrs = [attrs(i) for i in seeds]
            sims = np.zeros(len(catalog))
            for c in cands:
                a = attrs(c.item_index)
                sims[c.item_index] = max((len(a & s) / len(a | s) for s in seed_attrs if a | s), default=0.0)
        tools.trace.append(
            TraceEvent("note", "rerank", f"{len(cands)} candidates by similarity with {len(seeds)} seed(s)")
        )
        return rerank_by_similarity(cands, sims, weight=RERANK_WEIGHT)

    def _compose(self, recs: list[Recommendation], query: Query, notes: list[str], llm_text: str, mode: str) -> str:
        lex = self.toolbox.lexicon
        facets = [item_facets(self.components.catalog[r.item_index], self.toolbox.schema, lex.stats, soft=lex.soft)
                  for r in recs]  # fmt: skip
        what = describe_filters(query, self.toolbox.schema)
        return compose_reply(recs, query, notes, what=what, facets=facets, llm_text=llm_text, mode=mode)

    # ------------------------------------------------------------------ profiles
    def _load_profile(self, state: ConversationState) -> None:
        if self.profiles is not None and state.user_id is not None:
            profile = self.profiles.load(state.user_id)
            if profile is not None:
                restore_profile(profile, state, self.components.catalog, self.toolbox.schema)

    def _save_profile(self, state: ConversationState) -> None:
        if self.profiles is not None and state.user_id is not None:
            self.profiles.save(stored_profile(state, self.components.catalog))


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValueError(f"k must be an integer between 1 and {MAX_K}, got {k!r}")
    return k
