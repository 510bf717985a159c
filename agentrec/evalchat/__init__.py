"""Conversational evaluation: a simulated user, a runner, baselines and a report (``agentrec eval-chat``)."""

from agentrec.evalchat.leakage import leaks, title_variants
from agentrec.evalchat.runner import EpisodeLog, EvalResult, run_episodes, summarise
from agentrec.evalchat.simulator import RuleSimulator, SimUser, select_users
from agentrec.evalchat.systems import SYSTEMS, AgentSystem, RetrieverSystem, build_systems

__all__ = [
    "SYSTEMS",
    "AgentSystem",
    "EpisodeLog",
    "EvalResult",
    "RetrieverSystem",
    "RuleSimulator",
    "SimUser",
    "build_systems",
    "leaks",
    "run_episodes",
    "select_users",
    "summarise",
    "title_variants",
]
