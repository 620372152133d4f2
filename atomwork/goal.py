"""A goal's requested actions: "analyze X, flag Y, then draft Z" is three parts, the last after
the one before. The planner lists them, validation checks the plan serves them and their order.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from atomwork.plan import MAX_TASKS


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


class GoalPart(BaseModel):
    """One requested action of a goal. ``after_previous``: the goal orders it after the part
    before ("..., then ...", "after that", "Once ..., ...") even if no data passes between them."""

    text: str
    after_previous: bool = False


_ACTION_VERBS = _word_set(
    """add aggregate alert analyse analyze answer arrange ask assess audit book break build buy calculate call
    cancel chart check choose classify compare compile compute confirm convert count create crop delete
    describe detect determine display download draft draw drill edit email estimate evaluate examine explain
    export extract fetch filter find flag forecast generate get give group highlight identify install invite
    investigate list locate look measure message monitor notify open order organize organise outline pay pick
    plan play plot post predict prepare print produce provide pull purchase rank read recognize recommend
    record remind remove rename reply report research reserve resize retrieve review run save schedule search
    select send set share show sort split start stop summarise summarize tell text track transcribe transfer
    translate turn tweet update upload validate verify visualise visualize write"""
)

_QUESTION_WORDS = frozenset({"what", "which", "who", "how", "why", "where"})

_NOUN_FOLLOWERS = frozenset({"by", "per", "of", "and", "or"})
"""A verb-like word followed by one of these is a noun ("share by region", "report of ...")."""

_MONTH_NAMES = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)

_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
)

_KEEP = "\x1f"  # stands in for a comma that must not split (dates, numbers)

_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|(?<![A-Za-z0-9])'[^']+'(?![A-Za-z0-9])")

_DATE_COMMA = re.compile(rf"\b((?:{_MONTH_NAMES})\.? \d{{1,2}}(?:st|nd|rd|th)?),(?= \d{{4}})", re.I)

_WEEKDAY_COMMA = re.compile(rf"\b((?:{_WEEKDAYS})\.?),(?= )", re.I)

_NUMBER_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")

_BOUNDARY = re.compile(
    r"(\s*;\s*|\s*,\s*|(?<=[?!])\s+|(?<=[a-z]{3}\.)\s+(?=[A-Z])|"
    r"\s+(?=(?:and|then|after that|afterwards|afterward|finally|also)\b))",
    re.I,
)

_CONNECTOR = re.compile(
    r"^(?:(?:and|then|also|plus|after that|afterwards|afterward|finally|subsequently|next,|please)\b,?\s*)+",
    re.I,
)

_SEQUENCE_WORD = re.compile(r"\b(?:then|after that|afterwards|afterward|finally|subsequently|next)\b", re.I)

_LEADING_ORDER = re.compile(r"^(?:once|after|as soon as)\b", re.I)


def goal_steps(goal: str) -> list[GoalPart]:
    """Split a goal into its requested actions, keeping the order the goal implies.

    A comma, semicolon or "and" starts a new part only when what follows starts with an
    action verb or a question word ("..., flag anomalies and draft a report"); so dates
    ("December 25, 2022"), numbers ("1,234"), lists ("for ASIA, EUROPE and AMERICA") and
    quoted text stay whole, and a single request is exactly one part."""
    quotes: list[str] = []

    def hide(match: re.Match[str]) -> str:
        quotes.append(match.group(0))
        return f"\x00{len(quotes) - 1}\x00"

    text = _QUOTED.sub(hide, goal.strip())
    text = _NUMBER_COMMA.sub(_KEEP, text)
    text = _DATE_COMMA.sub(lambda m: m.group(1) + _KEEP, text)
    text = _WEEKDAY_COMMA.sub(lambda m: m.group(1) + _KEEP, text)

    pieces = _BOUNDARY.split(text)
    parts: list[tuple[str, bool]] = []  # (text, after_previous)
    delimiter = pending = ""  # pending: a bare connector ("and", "After that") waiting for its clause
    for index, piece in enumerate(pieces):
        if index % 2 == 1:
            delimiter = piece if not pending else pending + piece
            continue
        if not piece.strip():
            continue
        if not parts:
            parts.append((piece.strip(), False))
            continue
        lead = _CONNECTOR.match(piece.strip())
        connector = lead.group(0) if lead else ""
        body = piece.strip()[len(connector) :].strip()
        if not body:
            pending = delimiter + piece
            continue
        pending = ""
        sequential = bool(_SEQUENCE_WORD.search(delimiter + connector)) or (
            "," in delimiter and len(parts) == 1 and bool(_LEADING_ORDER.match(parts[0][0]))
        )
        if ";" in delimiter or "?" in parts[-1][0][-1:] or sequential or _starts_clause(body):
            parts.append((body, sequential))
        else:  # a list item, a date, a trailing phrase: part of the previous part
            previous, after = parts[-1]
            parts[-1] = (previous + delimiter + piece, after)
    out = []
    for text_, after in parts:
        for i, quoted in enumerate(quotes):
            text_ = text_.replace(f"\x00{i}\x00", quoted)
        clean = text_.replace(_KEEP, ",").strip(" .;,")
        if clean:
            out.append(GoalPart(text=clean, after_previous=after))
    return out


def _starts_clause(body: str) -> bool:
    words = re.findall(r"[A-Za-z']+", body.lower())
    if not words:
        return False
    if words[0] in _QUESTION_WORDS:
        return True
    return words[0] in _ACTION_VERBS and (len(words) == 1 or words[1] not in _NOUN_FOLLOWERS)


def goal_parts(goal: str) -> list[str]:
    """The requested actions of a goal ("analyze X, flag Y and draft Z" -> 3 parts)."""
    return [part.text for part in goal_steps(goal)]


def task_limits(parts: int) -> tuple[int, int]:
    """``(min_tasks, max_tasks)`` for a goal with ``parts`` requested actions: at least one task per
    part when there are several, and room for inputs and a report, ``clamp(2 * parts + 2, 3, 12)``."""
    most = max(3, min(MAX_TASKS, 2 * parts + 2))
    return (parts if parts >= 2 else 1), most


# Breakdowns a goal can ask for; each must show up as a column of a passing result.
DIMENSIONS = (
    "region", "nation", "month", "quarter", "department", "category", "channel", "priority",
    "segment", "supplier", "customer", "campaign", "mode", "territory",
)  # fmt: skip


_MEASURE_START = frozenset({"total", "sum", "average", "avg", "mean", "number", "count", "share"})
_LIST_START = re.compile(r"\b(?:by|per|each|every|unusual|which)\s+")
_ITEM_STOP = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "for",
        "in",
        "on",
        "at",
        "from",
        "to",
        "with",
        "during",
        "over",
        "since",
        "last",
        "this",
        "next",
        "previous",
        "prior",
        "and",
        "or",
        "by",
        "flag",
        "draft",
        "write",
        "then",
        "is",
        "are",
        "was",
        "were",
        "did",
        "do",
        "does",
        "had",
        "has",
        "have",
    }
)


def _listed_items(text: str, start: int) -> list[list[str]]:
    """The items listed from ``start`` on ("department and quarter, flag ..." -> [[department],
    [quarter], [flag, any ...]]): runs of up to three words, split at list words."""
    items: list[list[str]] = []
    for chunk in re.split(r"\s*(?:,|&|\band\b|\bor\b)\s*(?:by\s+)?", text[start:])[:4]:
        words = re.findall(r"[a-z]+", chunk)
        run: list[str] = []
        for word in words:
            if word in _ITEM_STOP or len(run) == 3:
                break
            run.append(word)
        if run:
            items.append(run)
        if not run or len(run) < len(words):
            break  # the list ended inside this chunk ("nation in ASIA ... (customer and supplier")
    return items


def _is_dimension(word: str) -> bool:
    return word in DIMENSIONS or word.rstrip("s") in DIMENSIONS


_RATE = re.compile(r"\b((?:average|mean|avg)\s+(?:number|count)\s+of\s+[a-z]+(?:\s+[a-z]+)?)\s+per\s+[a-z]+")


# A passive verb's agent: "placed by customers", "made by reps". Verbs that arrange rows ("grouped
# by", "broken down by") still ask for a breakdown.
_AGENT = re.compile(
    r"\b(?!(?:grouped|split|sorted|ranked|broken|segmented|categori[sz]ed|aggregated|summari[sz]ed|"
    r"bucketed|partitioned|listed|down|organi[sz]ed|measured|compared)\b)"
    r"(?:[a-z]+ed|made|bought|sold|paid|won|lost|spent|brought|held|run|owned)\s+by\s+$"
)

# The agent behind a period ("placed in 1994 by customers"), when its noun is plural and narrowed
# ("customers in ...", "reps who ..."): "shipped in 1995 by region" still asks for a breakdown.
_DATED_AGENT = re.compile(
    r"\b[a-z]+ed\s+(?:in|during|on|before|after|since|between|from)\s+(?:(?!by\b)[a-z0-9\-]+\s+){1,6}by\s+$"
)
_NARROWED = re.compile(r"(?:the\s+)?[a-z]+s\s+(?:in|from|of|with|who|that|based|located)\b")


def asks_breakdown(text: str, dimension: str) -> bool:
    """ "by region", "per month", "by department and quarter", "unusual months", "regions by ...".
    An item's dimension is its last dimension word ("by customer market segment" is by segment)."""
    # "the average number of orders per customer" is a rate over customers, not one row per customer.
    text = _RATE.sub(r"\1", text.lower())
    for match in _LIST_START.finditer(text):
        if _AGENT.search(text[: match.end()]):
            continue  # "orders placed by customers in FRANCE" says who placed them
        if _DATED_AGENT.search(text[: match.end()]) and _NARROWED.match(text, match.end()):
            continue  # "orders placed in 1994 by customers in the BUILDING segment": the same, dated
        for item in _listed_items(text, match.end()):
            if item[0] in _MEASURE_START:
                continue  # "nations by total supplier balance" ranks by a measure
            heads = [w for w in item if _is_dimension(w)]
            if heads and heads[-1] in (dimension, dimension + "s"):
                return True
    # "monthly ticket volumes", "quarterly revenue", "regions by revenue" (but "customers per
    # region" is by region only)
    # (but "the average monthly revenue" is one figure: a mean over the months)
    if re.search(rf"(?<!average )(?<!mean )(?<!typical )\b{dimension}ly\b", text):
        return True
    after = r"\s+(?:by|per)\s+(?:the\s+)?([a-z]+(?:\s+[a-z]+){0,2})"
    for match in re.finditer(rf"\b{dimension}s?" + after, text):
        # "customers per market segment" is by segment (a dimension word among the next few);
        # "nations by total supplier balance" ranks nations by a measure.
        following = match.group(1).split()
        if following[0] in _MEASURE_START or not any(_is_dimension(w) for w in following):
            return True
    return False


def breakdowns(text: str) -> list[str]:
    """The dimensions ``text`` asks to break a figure down by, in :data:`DIMENSIONS` order."""
    return [d for d in DIMENSIONS if asks_breakdown(text, d)]


def joint_breakdown(goal: str) -> tuple[str, list[str]] | None:
    """The first part of ``goal`` that asks for one table by two or more dimensions ("departures
    by department and quarter", "monthly ticket volumes by region"), with those dimensions."""
    for part in goal_parts(goal):
        dims = breakdowns(part)
        if len(dims) >= 2:
            return part, dims
    return None
