"""Routing a goal: a single question goes straight to one checked SQL task; work with several
steps (a report, anomalies, an analysis) goes to the planner.

A one-fact question should cost about one model call, not a plan, an evaluation and an answer.
"""

from __future__ import annotations

import re

from atomwork.agents.planner import goal_parts

# Asks that need several tools or a written product, not one query ("return flag" is a column).
_MULTI_STEP = re.compile(
    r"\b(report|draft|memo|brief|(?<!return )(?<!status )flag|anomal\w*|outliers?|unusual|"
    # "Email campaigns" are a channel; "write an email to the CFO" is a deliverable.
    r"(?:write|send|compose|prepare)\s+(?:\w+\s+){0,3}?(?:e-?mail|message)|(?:an?|the)\s+e-?mail\s+to|"
    r"(?:^|[.;!?]\s*)(?:please\s+)?e-?mail(?!\s+campaigns?\b)|"
    r"analy[sz]e|analysis|"
    r"explain|why|forecast|recommend\w*|investigate|summari[sz]e|summary|presentation)\b",
    re.I,
)


_QUESTION = re.compile(
    r"^\s*(what|which|how|who|whom|when|where|is|are|was|were|did|do|does|list|show|give|tell|find|"
    r"count|name|compare)\b",
    re.I,
)


def is_single_question(goal: str) -> bool:
    """Whether ``goal`` is one question that one SELECT can answer.

    A question ("How many orders ... and what was their value?") stays whole even when it has
    several clauses: one query can return several columns, and its clauses share context."""
    if _MULTI_STEP.search(goal):
        return False
    if _QUESTION.match(goal) or goal.rstrip().endswith("?"):
        return True
    return len(goal_parts(goal)) <= 1
