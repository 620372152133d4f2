"""What a text is about: its stemmed content words plus the business concepts they belong to
(sales ~ revenue, churn ~ attrition), for judging whether a task serves a goal.
"""

from __future__ import annotations

import re


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP = _word_set(
    """a an the and or but nor of in on at to for from by per with without into over under about as is are
    was were be been being do does did done have has had i me my we our us you your it its this that these
    those there their they them he she his her what which who whom how why where when than then also please
    can could would should will shall may might must need needs want wants let make made get got give show
    find look see tell list check help some any each every all both either more most less least very much
    many few one two three data period periods quarter quarters month months monthly year years yearly
    annual week weeks day days daily last next previous current prior past region regions regional
    department departments category categories group type kind number numbers value values total totals
    overall result results table based using use uses used earlier analysis analyze analyse analyzing
    business short person model rate rates stat stats statistic statistics performance vs time times row
    rows input inputs good first second like just"""
)

_CONCEPT_WORDS = (
    "revenue sales sale sell selling sold income order orders booking bookings",
    "customer customers client clients buyer buyers account accounts",
    "expense expenses cost costs spend spending spent opex outlay payroll",
    "budget budgets forecast target targets variance actual actuals",
    "headcount employee employees staff staffing workforce hire hires hiring people personnel",
    "attrition churn turnover termination terminations leaver leavers resignation resignations retention "
    "quit",
    "campaign campaigns marketing advertising ads conversion conversions channel channels",
    "ticket tickets support csat satisfaction complaint complaints helpdesk resolution",
    "shipment shipments shipping ship shipped delivery deliveries late lateness delay delays delayed "
    "logistics fulfillment",
    "supplier suppliers vendor vendors procurement sourcing",
    "anomaly anomalies anomalous outlier outliers unusual spike spikes abnormal flag odd irregular deviation "
    "detect",
    "compare comparison versus growth change changes trend trends difference grew decline declined drop "
    "dropped increase decrease yoy qoq",
    "report reporting summary summarize summarise memo brief briefing write draft email message note writeup "
    "presentation",
    "schema column columns structure describe field fields tables",
    "sql query select",
    "top best largest biggest highest leading rank ranking",
)


def _stem(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    return word


_CONCEPTS: dict[str, set[str]] = {}


for _index, _group in enumerate(_CONCEPT_WORDS):
    for _word in _group.split():
        _CONCEPTS.setdefault(_stem(_word), set()).add(f"#{_index}")


def relevance_terms(text: str) -> set[str]:
    """Content words of ``text`` (stemmed) plus the concepts they belong to (sales ~ revenue)."""
    out: set[str] = set()
    for word in re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")):
        if word in _STOP or word.isdigit() or len(word) < 2:
            continue
        stem = _stem(word)
        out.add(stem)
        out |= _CONCEPTS.get(stem, set())
    return out


def term_overlap(a: set[str], b: set[str]) -> int:
    """Shared terms, counting words with a common 6-letter prefix (anomaly ~ anomalous) as shared."""
    shared = a & b
    count = len(shared)
    rest_a = [w for w in a - shared if len(w) >= 6 and not w.startswith("#")]
    rest_b = [w for w in b - shared if len(w) >= 6 and not w.startswith("#")]
    count += sum(1 for w in rest_a if any(w[:6] == v[:6] for v in rest_b))
    return count
