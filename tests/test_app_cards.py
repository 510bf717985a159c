"""The app's cards, short answer, choices, evidence diagrams and user lines (pure functions, real agent replies)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from app_helpers import make_agent

from agentrec.agent.types import Reply
from agentrec.types import Catalog, GraphPath, Item, PathEdge, PathNode, Query, Recommendation
from agentrec.ui.answer import md_escape, reply_choices, short_answer, short_title
from agentrec.ui.cards import CardFacts, card_html, card_reason, image_url
from agentrec.ui.controller import AppController
from agentrec.ui.paths import is_trivial, paths_html, strongest_paths
from agentrec.ui.users import describe_users

HOSTILE = "F*ck _You_ `Goethe` <script>alert(1)</script> [click](javascript:alert(1)) https://evil.example $x$"


@pytest.fixture(scope="module")
def agent() -> Any:
    return make_agent()


def _semantic(term: str, asked: str = "", score: float = 0.9) -> GraphPath:
    asked = asked or term
    item = "Aliens (1986)"
    nodes = (PathNode("query", asked, asked), PathNode("text", term.lower(), term.lower()), PathNode("item", "2", item))
    return GraphPath("semantic", nodes, (PathEdge("mentions"), PathEdge("describes")), score, f"matches: {term}")


def _co(n: int = 12, score: float = 0.5) -> GraphPath:
    nodes = (
        PathNode("user", "", "You"),
        PathNode("item", "1", "Alien (1979)"),
        PathNode("users", "1|2", f"{n} people"),
        PathNode("item", "2", "Aliens (1986)"),
    )
    text = f"You liked Alien (1979); {n} people who liked Alien (1979) also liked Aliens (1986)"
    return GraphPath("co_interaction", nodes, (PathEdge("liked"), PathEdge("liked_by", n), PathEdge("also_liked", n)),
                     score, text)  # fmt: skip


def _rec(title: str = "Aliens", reason: str = "", evidence: tuple[GraphPath, ...] = ()) -> Recommendation:
    return Recommendation(1, "102", title, 1986, ("Action", "Sci-Fi"), reason, evidence)


def test_card_shows_facets_overview_rating_and_one_real_reason(agent: Any) -> None:
    facts = CardFacts.for_agent(agent)
    assert facts is not None
    rec = _rec(reason="Rated 4.5/5 on average by 13 people. Genre Action/Sci-Fi, year 1986.", evidence=(_co(),))
    view = facts.view(1)
    html = card_html(rec, rank=1, view=view)
    text = re.sub(r"<[^>]+>", " ", html)
    for part in ("Aliens", "(1986)", "Action", "Sci-Fi", "Marines fight aliens.", "★ 4.5/5", "ratings"):
        assert part in text, part
    assert "12 people who liked Alien (1979) also liked Aliens (1986)" in text  # the reason: the strongest path
    assert "Genre Action/Sci-Fi" not in text  # the facets are not restated as a reason
    assert "<details class='agentrec-evidence'>" in html and "data-item-id='102'" in html


def test_reason_without_a_path_is_the_rating_and_the_stats_line_is_not_repeated(agent: Any) -> None:
    facts = CardFacts.for_agent(agent)
    assert facts is not None
    view = facts.view(1)
    rec = _rec(reason="Rated 4.5/5 on average by 13 people. Genre Action/Sci-Fi, year 1986.")
    assert card_reason(rec, view) == "Rated 4.5/5 on average by 13 people"
    html = card_html(rec, rank=1, view=view)
    assert "★" not in html and html.count("13 people") == 1
    llm = _rec(reason="A tense, claustrophobic follow-up with more action than the first film.")
    assert card_reason(llm, view).startswith("A tense, claustrophobic")  # a model's own words are kept


def test_trivial_paths_are_dropped_and_at_most_three_drawn() -> None:
    shown = {"action", "sci-fi", "comedy"}
    assert is_trivial(_semantic("Comedy"), shown)  # "Comedy —mentions→ comedy"
    assert is_trivial(_semantic("marines"), shown)  # the request itself, echoed
    assert not is_trivial(_semantic("marines", asked="space marines on a planet"), shown)
    paths = (_semantic("Comedy", score=1.0), *(_co(n, score=0.1 * n) for n in (3, 5, 7, 9)))
    kept = strongest_paths(_rec(evidence=paths), shown)
    assert [p.edges[1].support for p in kept] == [9, 7, 5]
    html = paths_html(_rec(evidence=paths), shown)
    assert html.count("class='agentrec-path'") == 3 and "mentions" not in html
    assert paths_html(_rec(evidence=(_semantic("Comedy"),)), shown) == ""


def test_hostile_text_is_escaped_everywhere() -> None:
    path = _co()
    hostile_path = GraphPath(path.kind, (*path.nodes[:3], PathNode("item", "2", HOSTILE)), path.edges, 1.0, HOSTILE)
    html = card_html(_rec(title=HOSTILE, reason=HOSTILE, evidence=(hostile_path,)), rank=1)
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = md_escape(HOSTILE)
    for raw in ("*", "_", "`", "<", "[", "$"):
        assert re.search(r"(?<!\\)" + re.escape(raw), md.replace("&lt;", "").replace("&gt;", "")) is None, raw
    assert "https://" not in md  # no autolink


def test_image_only_from_http_urls_lazily() -> None:
    good = Item("1", "A", attributes={"poster_url": "https://img.example/a.jpg"})
    bad = Item("2", "B", attributes={"image": "javascript:alert(1)"})
    assert image_url(good) == "https://img.example/a.jpg" and image_url(bad) == ""
    catalog = Catalog((good, bad))
    facts = CardFacts(catalog)
    html = card_html(Recommendation(0, "1", "A", None, (), "x"), rank=1, view=facts.view(0))
    assert "loading='lazy'" in html and "https://img.example/a.jpg" in html and "poster" not in html.split("<img")[0]
    placeholder = card_html(Recommendation(1, "2", "B", None, (), "x"), rank=2, view=facts.view(1))
    assert "<img" not in placeholder and "javascript" not in placeholder


def test_product_cards_show_telling_categories_and_brand() -> None:
    items = tuple(
        Item(str(i), f"Glue {i}", overview=f"Glue {i}. Industrial & Scientific Adhesives. Acme.",
             attributes={"category": ("Industrial & Scientific", "Adhesives" if i % 2 else "Tapes"), "brand": "Acme"})
        for i in range(6)
    )  # fmt: skip
    facts = CardFacts(Catalog(items))
    view = facts.view(1)
    assert view.chips == ("Adhesives",) and ("brand", "Acme") in view.facts
    assert view.overview == ""  # the product text only repeats title, categories and brand


def test_short_answer_names_top_picks_and_not_the_card_detail(agent: Any) -> None:
    reply = agent.chat("I liked Termnator", session="short")
    assert len(reply.recommendations) >= 4
    text = short_answer(reply, items=("film", "films"), schema=agent.toolbox.schema)
    assert text.startswith(f"Here are {len(reply.recommendations)} films")
    assert len(re.split(r"(?<=[.!?])\s+", text.split("\n\n")[0])) <= 2
    named = [r.title for r in reply.recommendations if f"**{md_escape(r.title)}**" in text]
    assert named == [r.title for r in reply.recommendations[:3]]
    assert all(r.reason not in text for r in reply.recommendations)
    assert "people who liked" not in text and "Rated" not in text


def test_choices_from_real_replies(agent: Any) -> None:
    conflict = agent.chat("comedy but not comedy", session="choices")
    assert [(c.label, c.message) for c in reply_choices(conflict)] == [
        ("genre Comedy", "genre Comedy"),
        ("no Comedy", "no Comedy"),
    ]
    years = agent.chat("80s movies after 2000", session="choices-2")
    assert [c.message for c in reply_choices(years)] == ["80s", "after 2000"]
    confirm = Reply("x", [], [], "offline", ["Did you mean Alien? Say yes, or name it more exactly; until then ..."])
    assert [(c.label, c.message) for c in reply_choices(confirm)] == [("Yes, Alien", "yes")]
    assert reply_choices(agent.chat("animated movies", session="choices-3")) == []
    asked = Reply("Did you mean Monsters, Inc. or Monsters University?", [], [], "llm:m", [])
    assert [c.message for c in reply_choices(asked)] == ["Monsters, Inc.", "Monsters University"]
    assert reply_choices(Reply("Do you mean it?", [], [], "llm:m", [])) == []  # no readings offered


def test_question_keeps_cards_and_choice_resolves_it(agent: Any) -> None:
    ctl = AppController(agent)
    first = list(ctl.respond("s-choice", "crime movies"))[-1]
    asked = list(ctl.respond("s-choice", "comedy but not comedy"))[-1]
    assert asked.choices and asked.recommendations == first.recommendations  # the cards stay while it asks
    picked = list(ctl.respond("s-choice", asked.choices[1].message))[-1]
    assert picked.recommendations and all("Comedy" not in r.genres for r in picked.recommendations)
    assert not picked.choices


def test_user_lines_count_and_name_top_genres(agent: Any) -> None:
    lines = describe_users(agent, ["1", "2", "nobody"], words=("films", "seen"))
    assert set(lines) == {"1", "2"}
    train = agent.components.train
    n1 = int((train.user_index == train.user_ids.index("1")).sum())
    assert lines["1"].startswith(f"{n1} films seen · mostly ")


def test_switching_user_asks_first_only_after_a_conversation(agent: Any) -> None:
    ctl = AppController(agent)
    assert not ctl.needs_confirmation("s-switch", "3")  # nothing to lose yet
    list(ctl.respond("s-switch", "horror movies"))
    assert ctl.needs_confirmation("s-switch", "3") and not ctl.needs_confirmation("s-switch", "new user")
    kept = ctl.keep_as("s-switch", "3")
    assert kept.user == "3" and "Horror" in kept.memory and "kept" in kept.history[-1]["content"]
    after = list(ctl.respond("s-switch", "more", user="3"))[-1]
    assert "memory was cleared" not in after.history[-1]["content"] and after.recommendations


def test_empty_message_uses_the_domain_words() -> None:
    from agentrec.ui.state import empty_message_notice

    text = empty_message_notice("buy", ["3D printer filament", "glue_*"])
    assert "to buy" in text and "3D printer filament" in text and "glue\\_\\*" in text


def test_short_answer_for_an_llm_reply_keeps_the_models_lead() -> None:
    recs = [_rec(title=t) for t in ("Aliens", "Alien", "Predator", "Heat")]
    reply = Reply("Space horror it is. Three classics follow. And more.\n1. Aliens (1986) - x", recs, [], "llm:m",
                  ["A *note*"], Query())  # fmt: skip
    text = short_answer(reply, items=("film", "films"))
    assert text.startswith("Space horror it is. Three classics follow. Top picks: **Aliens**")
    assert "Heat" not in text and "> A \\*note\\*" in text


def test_long_titles_are_cut_in_the_chat_only() -> None:
    long = "HATCHBOX PLA 3D Printer Filament, Dimensional Accuracy +/- 0.03 mm, 1 kg Spool, 1.75 mm, White"
    assert short_title(long) == "HATCHBOX PLA 3D Printer Filament, Dimensional Accuracy +/-…"
    assert short_title("Alien") == "Alien"
    reply = Reply("x", [_rec(title=long)], [], "offline", [], Query())
    assert "0.03 mm, 1 kg" not in short_answer(reply) and "HATCHBOX PLA 3D Printer Filament" in short_answer(reply)
    assert "0.03 mm, 1 kg Spool" in card_html(_rec(title=long), rank=1)


class _StreamingAgent:
    """Yields the events ``Agent.stream`` yields in LLM mode (tokens as the model writes them, then the reply)."""

    mode = "llm:test-model"

    def __init__(self, reply: Reply, tokens: list[str], pause_s: float) -> None:
        self.reply, self.tokens, self.pause_s = reply, tokens, pause_s

    def stream(self, text: str, session: str, user: str | None) -> Any:
        import time

        from agentrec.agent.types import StreamEvent

        for token in self.tokens:
            yield StreamEvent("token", token)
            time.sleep(self.pause_s)
        yield StreamEvent("recommendations", data=self.reply.recommendations)
        yield StreamEvent("done", data=self.reply)

    def reset(self, session: str) -> None:
        pass


def test_llm_text_streams_then_the_short_answer_replaces_it() -> None:
    reply = Reply("Space *horror* it is.\n1. Aliens (1986) - x", [_rec()], [], "llm:test-model", [], Query())
    ctl = AppController(_StreamingAgent(reply, ["Space ", "*horror* ", "it is."], 0.08))
    views = list(ctl.respond("s-stream", "space horror"))
    partial = [v.history[-1]["content"].strip() for v in views if v.busy and v.history[-1]["content"] != "…"]
    assert len(partial) >= 2 and all(b.startswith(a) and b != a for a, b in zip(partial, partial[1:], strict=False))
    assert partial[0].startswith("Space")  # the model's words as they come, escaped
    assert views[-1].history[-1]["content"] == "Space \\*horror\\* it is. Top pick: **Aliens** (1986)."


def test_offline_answers_come_in_one_update(agent: Any) -> None:
    views = list(AppController(agent).respond("s-once", "dark sci-fi from the 80s"))
    assert [v.busy for v in views] == [True, False] and views[-1].recommendations


def test_warm_up_loads_everything_and_survives_a_failing_step(agent: Any, caplog: pytest.LogCaptureFixture) -> None:
    from agentrec.ui.warm import WARM_UP_SESSION, warm_up

    ctl = AppController(agent)
    lines: list[str] = []
    timings = warm_up(agent, controller=ctl, progress=lines.append)
    assert set(timings) == {"query", "cards", "turn"} and lines[-1].startswith("Ready")
    assert WARM_UP_SESSION not in ctl._sessions  # the throwaway turn is forgotten

    class Broken:
        def recommend(self, query: Any) -> None:
            raise RuntimeError("no index")

    assert set(warm_up(Broken())) == {"query"}  # reported and skipped: the app still starts
    assert "no index" in caplog.text
