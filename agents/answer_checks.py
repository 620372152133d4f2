"""Programmatic checks that a SQL result answers the question that was asked.

They compare the question's period, named values, dated events, measure words and shape with
the SQL and its result, so that "shipped in 1995" answered by order date, "orders" answered with
revenue, or a year taken for the answer are caught before any model is asked.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import date, timedelta

from sqlglot import exp

from atomwork.agents.data_probe import DataProbe
from atomwork.agents.date_spans import (
    MONTH_OF_YEAR,
    ORDINAL,
    QUARTER_OF_YEAR,
    month_dates,
    month_number,
    point_problems,
    points_in_time,
    quarter_dates,
    span_problems,
    year_spans,
)
from atomwork.agents.join_grain import repeated_join_problems
from atomwork.agents.null_membership import null_membership_problems
from atomwork.agents.period_average import period_average_problems
from atomwork.agents.sql_structure import (
    absent_counted_problems,
    counted_amount_problems,
    counted_table,
    counted_table_problems,
    fan_out_problems,
    filtered_values,
    from_clause,
    grouped_window_problems,
    inner_null_problems,
    key_mismatch_problems,
    open_year_problems,
    parse,
    partitioned_figure_problems,
    stray_distinct_count_problems,
    summed_share_problems,
    table_aliases,
    text_date_problems,
    ungrouped_having_problems,
    unknown_value_problems,
    unlinked_join_problems,
    window_repeat_problems,
)
from atomwork.goal import breakdowns, joint_breakdown
from atomwork.tools.base import Table
from atomwork.tools.glossary import Definition, Glossary
from atomwork.tools.schema import SchemaCatalog, TableInfo

# A year, not part of a larger number ("1,995.00", "1995.5"): "in 1994, what" still counts.
_YEAR = re.compile(r"(?<![\d.,$])(19\d\d|20\d\d)(?![\d%]|[.,]\d)")
_WORD = re.compile(r"[A-Za-z][A-Za-z\-']+")
_STOP = {
    "what", "which", "when", "where", "with", "that", "this", "there", "their", "have", "from",
    "were", "was", "does", "each", "every", "many", "much", "total", "number", "count", "average",
    "mean", "year", "years", "month", "months", "quarter", "quarters", "date", "dates", "show",
    "give", "list", "value", "values", "amount", "between", "during", "over", "than", "more", "most",
    "less", "least", "highest", "lowest", "largest", "smallest", "across", "overall", "into",
    "about", "after", "before", "since", "until", "also", "only", "some", "data", "table",
}  # fmt: skip
# "How many hours did it take" asks for a duration, not a count.
# "How many days" and "the number of days between" measure a time, not a count of rows.
_UNITS = r"(?!\s+(?:hours|days|minutes|seconds|weeks|months|years|dollars|euros|percent)\b)"
_COUNT = re.compile(rf"\bhow many\b{_UNITS}|\bnumber of\b{_UNITS}|\bcount\b", re.I)
# The question defines its own measure ("i.e. revenue divided by orders"): that wins over the glossary.
_OWN_DEFINITION = re.compile(
    r"\bi\.e\.|\bdefined as\b|\bdivided by\b|\bcomputed as\b|\bcalculated as\b", re.I
)
# "per order" asks for an average; "per order priority" for a breakdown.
_DURATION = re.compile(
    r"\bhow many (?:days|weeks|months|hours)\b|\bhow long\b|"
    r"\b(?:days|weeks|time|duration)\s+(?:pass\w*\s+)?(?:between|from)\b",
    re.I,
)
_AVG = re.compile(
    r"\baverage\b|\bmean\b|\bavg\b|\bper (?:order|customer|item|employee|ticket)\b"
    r"(?!\s+(?:priority|status|date|type|size|mode|segment|channel|category|region|nation|key|line))",
    re.I,
)
_SUM = re.compile(r"\btotal\b|\bsum\b|\boverall\b", re.I)
_MEDIAN = re.compile(r"\bmedian\b", re.I)
_MEDIAN_SQL = re.compile(r"\b(?:median|quantile\w*|percentile\w*)\s*\(")
# "at least the quota" and "at most 5 days" bound a value; they rank nothing.
_TOP = re.compile(r"\b(?<!\bat )(highest|most|top|largest|biggest|maximum|max|greatest|longest)\b", re.I)
_BOTTOM = re.compile(r"\b(?<!\bat )(lowest|least|fewest|smallest|minimum|min|shortest)\b", re.I)
# "Compare revenue in 1996 and 1997": a figure per year, side by side. ("Growth from 1996 to 1997"
# may be one figure, so only comparing words count.)
_COMPARES = re.compile(r"\b(?:compare[sd]?|comparison|versus|vs\.?|against)\b", re.I)
# "by region" asks for a breakdown; "placed by customers" does not, so only grouping nouns count.
_GROUPED = re.compile(
    r"\b(?:by|per|for each|each|every)\s+(?:the\s+)?(?:[a-z]+\s+){0,2}?"
    r"(?:region|nation|country|month|quarter|year|segment|priority|category|channel|department|mode|"
    r"ship mode|status|brand|type|week|campaign|stage|territory|industry|rep|manager|source)s?\b",
    re.I,
)
# "The average number of leads per campaign" is one figure, an average over the campaigns of
# each one's count; not one row per campaign.
_AVERAGE_NUMBER = r"\b(?:average|mean) (?:number|count) of "
AVERAGE_COUNT_OF = re.compile(
    rf"{_AVERAGE_NUMBER}([a-z]+(?: [a-z]+)?) (?:per|for each|by each) ([a-z]+)", re.I
)


_PREPOSITIONS = {"in", "of", "from", "with", "at", "on", "to", "for"}
_BY_WHOM = re.compile(r"\s+(?:\w+ed\b|who\b|that\b|in the [A-Z])")


def grouped_by(question: str) -> re.Match[str] | None:
    """The breakdown phrase of ``question`` ("by region", "per month"), if it asks for one.
    "Spent by the Finance department" names one department (capitalized, as the data spells
    it): who spent, not a breakdown."""
    text = _without_averaged_entity(question)
    for match in _GROUPED.finditer(text):
        between = match.group(0).split()[1:-1]
        if any(w[:1].isupper() for w in between):
            continue
        # "Placed by customers in nations of EUROPE": "by" reaches customers; the nations only narrow them.
        if any(w.lower() in _PREPOSITIONS for w in between):
            continue
        # "Activities logged by reps hired in 2021": the reps who did it, narrowed; not "by rep".
        if (
            _BY_WHOM.match(text[match.end() :])
            and match.group(0).lower().startswith("by ")
            and match.group(0)[-1] == "s"
        ):
            continue
        return match
    return None


def _without_averaged_entity(question: str) -> str:
    """``question`` less the "per campaign" of "the average number of leads per campaign"."""
    return AVERAGE_COUNT_OF.sub(lambda m: f"average number of {m.group(1)}", question)


# Dimensions whose rows a period always has ("monthly revenue in 1995" has twelve).
PERIOD_DIMENSIONS = frozenset({"month", "quarter", "week"})


def _stem(word: str) -> str:
    word = word.lower().strip("'-")
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: len(word) - len(suffix)] + repl
    return word


def _verb_root(word: str) -> str:
    """``shipped`` -> ``ship``, ``hired`` -> ``hire``, ``received`` -> ``receiv``."""
    root = word[:-2]
    if len(root) >= 2 and root[-1] == root[-2]:
        root = root[:-1]  # doubled consonant
    return root if len(root) >= 4 else word[:-1]


# A deal is won or lost when it closes: "won in 2023" dates it by its close date.
_OUTCOME_EVENTS = {"won": "close", "win": "close", "wins": "close", "lost": "close", "lose": "close"}


_PLACED = {"plac": "order", "purchas": "order"}
# A sale is made when it is ordered: "quantity sold in 1996" dates it by the order date...
_SOLD = {"sold": "order", "bought": "order"}


def question_events(question: str) -> list[str]:
    """Roots of the dated events a question names: "shipped in 1995" -> ``ship``, "won" -> ``close``."""
    words = _WORD.findall(question.lower())
    events = [_verb_root(w) for w in words if w.endswith("ed") and len(w) >= 5]
    # An order is placed on its order date: "orders placed in Q3" dates them by it.
    events = [_PLACED.get(e, e) for e in events]
    # ...unless another event dates it: "items shipped in 1993 sold without a discount".
    events = events or [_SOLD[w] for w in words if w in _SOLD]
    if not re.search(r"\b(?:deals?|opportunit\w*)\b", question, re.I):
        return events  # "lost the most employees" closes no deal
    # "Won opportunities created in 2023" are dated by their creation: the outcome only says which.
    return events or [_OUTCOME_EVENTS[w] for w in words if w in _OUTCOME_EVENTS]


def _identifiers(sql: str) -> set[str]:
    """Lower-cased identifiers in ``sql`` outside string literals."""
    bare = re.sub(r"'(?:[^']|'')*'", " ", sql)
    return {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", bare)}


_ALIAS = re.compile(r"\bAS\s+\"?([A-Za-z_][A-Za-z0-9_]*)", re.I)


def _literals(sql: str) -> str:
    return " ".join(m.lower() for m in re.findall(r"'((?:[^']|'')*)'", sql))


def _name_parts(name: str) -> list[str]:
    """``l_shipdate`` -> ``["shipdate"]``, ``support_tickets`` -> ``["support", "tickets"]``."""
    bare = re.sub(r"^[a-z]{1,2}_", "", name.lower())
    return [p for p in bare.split("_") if p]


def spelled_as_data(question: str, value: str) -> bool:
    """Whether ``question`` writes the capitalized ``value`` letter for letter after its first word."""
    if not value[:1].isupper():
        return False
    return any(m.start() > 0 for m in re.finditer(rf"(?<![\w'-]){re.escape(value)}(?![\w'-])", question))


# ...and whatever follows the counted word: "the average number of employees of accounts".
_AVERAGE_NUMBER_OF = re.compile(
    rf"{_AVERAGE_NUMBER}([a-z]+(?: (?!(?:per|for|of|in|by|from|at|on|with|that)\b)[a-z]+)?)", re.I
)


def _averages_count_column(question: str, lowered_sql: str, catalog: SchemaCatalog) -> bool:
    """ "The average number of leads per campaign", "... of employees of accounts": avg() of a
    numeric column named for the things counted (leads, employee_count) already holds the counts."""
    asked = _AVERAGE_NUMBER_OF.search(question)
    if asked is None:
        return False
    stem = asked.group(1).split()[-1].lower().rstrip("s")[:6]
    numeric = {c.name.lower() for t in catalog.tables for c in t.columns if c.numeric}
    averaged = re.findall(r"\bavg\s*\(\s*(?:\w+\.)?(\w+)\s*\)", lowered_sql)
    return any(name in numeric and stem in name for name in averaged)


# "A retail price above 1900": a number compared, not a year.
_COMPARED_NUMBER = re.compile(
    r"\b(?:above|below|under|exceeding|exceeds?|at (?:least|most)|"
    r"(?:more|less|greater|fewer|higher|lower) than)\s+\$?$",
    re.I,
)


def question_years(question: str) -> list[str]:
    return sorted(
        {m.group(1) for m in _YEAR.finditer(question) if not _COMPARED_NUMBER.search(question[: m.start()])}
    )


def moment_only_years(question: str) -> set[str]:
    """Years the question writes only in a moment ("at the end of 1997"), not as a period."""
    points = points_in_time(question)
    rest = question
    for point in points:
        rest = rest.replace(point.phrase, " ")
    return {y for p in points for y in p.years} - set(question_years(rest))


def _value_words(value: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", value.lower()) if len(w) >= 3 or w.isalpha()]


def named_values(question: str, catalog: SchemaCatalog) -> dict[str, str]:
    """Categorical values the question names: value -> ``table.column``."""
    found: dict[str, str] = {}
    text = question.lower()
    for column, values in catalog.categorical().items():
        # 'Manufacturer#1' and 'Manufacturer#2' share their words: only the number tells them apart.
        shared = Counter(tuple(_value_words(v)) for v in values)
        for value in values:
            # 'VP Sales' needs "vp sales", but '1-URGENT' is named by "urgent".
            words = _value_words(value)
            if shared[tuple(words)] > 1:
                words = [w for w in re.split(r"[^a-z0-9]+", value.lower()) if w]
            if len(value) < 3 or value.isdigit() or not any(len(w) >= 3 for w in words):
                continue
            # 'SHIP' (a value of l_shipmode) is not named by "ship mode": the words name the column.
            if all(w in column.lower().rsplit(".", 1)[-1] for w in words):
                continue
            # "urgent" names the value '1-URGENT'; "middle east" names 'MIDDLE EAST'; "calls" names
            # 'Call' (rows of a kind are counted in the plural).
            plural = "s?" if words[-1].isalpha() and len(words[-1]) >= 4 and words[-1][-1] != "s" else ""
            phrase = r"\b" + r"[\s\-#]+".join(re.escape(w) for w in words) + plural + r"\b"
            if re.search(phrase, text) or _names_outcome(words, text):
                found.setdefault(value, column)
    # Prefer the longest match: "MIDDLE EAST" over "EAST" if both were values.
    # ...but "urgent" names 'urgent' as much as '1-URGENT': the digit is no word of the question.
    return {
        v: c
        for v, c in found.items()
        if not any(
            v != o and v.lower() in o.lower() and set(_value_words(o)) > set(_value_words(v)) for o in found
        )
    }


def _unasked_value_problems(
    question: str, sql: str, catalog: SchemaCatalog, glossary: Glossary | None
) -> list[str]:
    """``region = 'AMERICA'`` in a query for "urgent tickets opened in 1997" counts one region's:
    a value the query keeps rows by is one the question names (a word of it, "won" for 'Closed
    Won') or the glossary's definition uses ("returned": l_returnflag = 'R'). Codes too short to
    name ('R', 'HR') are not judged."""
    asked = [w.lower() for w in _WORD.findall(question)]
    defined = " ".join(d.meaning for d in glossary.definitions) if glossary is not None else ""
    problems = []
    for value, column in filtered_values(sql, catalog):
        words = [w for w in re.split(r"[^a-z]+", value.lower()) if len(w) >= 3]
        if not words or f"'{value}'" in defined:
            continue
        if any(a.startswith(w[:4]) or w.startswith(a[:4]) for w in words for a in asked if len(a) >= 3):
            continue
        if _names_outcome(words, question.lower()):
            continue
        problems.append(f"the query keeps only {column} = '{value}', which the question does not mention")
    return problems


def named_value_words(question: str, catalog: SchemaCatalog) -> dict[str, str]:
    """Words of a coded column's values the question writes as the data does ("parts made of
    BRASS" names a word of p_type's 'LARGE BRUSHED BRASS'): word -> ``table.column``. Only words in
    fewer than half of the values ('Supplier' in every 'Supplier#000000001' tells none apart), and
    only as written: "new opportunities" does not name 'New Logo'."""
    found: dict[str, str] = {}
    written = set(_WORD.findall(question)[1:])  # the first word is capitalized anyway
    for table in catalog.tables:
        for col in table.columns:
            if not col.known_values:
                continue
            counts = Counter(w for v in col.known_values for w in set(re.split(r"[^A-Za-z]+", v)))
            for word in sorted(written):
                if len(word) >= 3 and not word.islower() and 0 < counts[word] < len(col.known_values) / 2:
                    found.setdefault(word, f"{table.name}.{col.name}")
    return found


# An outcome a question states as a verb: "deals we won", "did we win" name the stage 'Closed Won'.
_OUTCOME_FORMS = {
    "won": ("win", "wins", "winning", "won"),
    "lost": ("lose", "loses", "losing", "lost"),
}


def _names_outcome(words: list[str], text: str) -> bool:
    return any(
        w in _OUTCOME_FORMS and re.search(rf"\b(?:{'|'.join(_OUTCOME_FORMS[w])})\b", text) for w in words
    )


def _used_tables(idents: set[str], catalog: SchemaCatalog) -> set[str]:
    return {t.name.lower() for t in catalog.tables if t.name.lower() in idents}


def dated_words(catalog: SchemaCatalog) -> dict[str, set[str]]:
    """Stems of date-column names -> those columns (``ship`` -> {l_shipdate})."""
    out: dict[str, set[str]] = {}
    for table in catalog.tables:
        for col in table.columns:
            if not col.is_date:
                continue
            for part in _name_parts(col.name):
                stem = re.sub(r"(date|at|on|time)$", "", part)
                if len(stem) >= 4:
                    out.setdefault(stem, set()).add(col.name.lower())
    return out


_BOTH_YEARS = re.compile(
    r"\b(?:both|each of)\s+(?:in\s+)?((?:19|20)\d\d)\s*(?:,|and)\s+(?:in\s+)?((?:19|20)\d\d)\b", re.I
)


def both_years(question: str) -> tuple[str, str] | None:
    """ "Customers who ordered in both 1995 and 1996": the two years each must have rows in."""
    match = _BOTH_YEARS.search(question)
    return (match.group(1), match.group(2)) if match else None


def _both_years_problems(question: str, lowered_sql: str) -> list[str]:
    """Rows of either year (an OR, an IN list) do not show who had rows in both."""
    years = both_years(question)
    if years is None:
        return []
    if re.search(r"\bintersect\b|\bhaving\s+count\s*\(\s*distinct", lowered_sql):
        return []
    if len(re.findall(r"\b(?:in|exists)\s*\(\s*select\b", lowered_sql)) >= 2:
        return []
    first, second = years
    return [
        f"the question asks for those with rows in both {first} and {second}, but the query takes rows of "
        f"either year; keep the keys of {first} INTERSECT the keys of {second}"
    ]


def _unfiltered_figure_problems(sql: str, years: list[str]) -> list[str]:
    """Output columns computed by an aggregating subquery that filters on none of the question's
    years, while the query does: ``(SELECT ... / count(*) FROM lineitem) AS overall_share``."""
    tree = parse(sql) if years else None
    if tree is None or not isinstance(tree, exp.Select):
        return []
    problems = []
    for projection in tree.expressions:
        for sub in projection.find_all(exp.Subquery):
            text = sub.sql(dialect="duckdb").lower()
            if sub.find(exp.AggFunc) is not None and not any(y in text for y in years):
                problems.append(
                    f"the column {projection.alias_or_name} is computed over every year, not "
                    f"{' and '.join(years)} as the question asks"
                )
    return problems


def check_sql_answer(
    question: str,
    sql: str,
    table: Table,
    catalog: SchemaCatalog,
    *,
    period_years: list[str] | None = None,
    glossary: Glossary | None = None,
    probe: DataProbe | None = None,
) -> list[str]:
    """The reasons the result does not answer ``question`` (empty when every check holds)."""
    problems: list[str] = []
    lowered_sql = sql.lower()
    # Names the query makes up (AS ticket_volume) say nothing of what it reads.
    known = {t.name.lower() for t in catalog.tables} | {
        c.name.lower() for t in catalog.tables for c in t.columns
    }
    idents = _identifiers(sql) - {a.lower() for a in _ALIAS.findall(sql) if a.lower() not in known}
    literals = _literals(sql)
    asked_years = sorted(set(question_years(question)) | set(period_years or []))
    # "Before 1993", "between 1993 and 1995": years that bound a span, not whole years asked.
    spans = year_spans(question)
    span_years = {y for span in spans for y in span.years}
    # "At the end of 1997": a day, not the year; unless the question also names 1997 elsewhere.
    moment_years = moment_only_years(question)
    span_years |= moment_years
    whole_years = [y for y in asked_years if y not in span_years]
    # Filters that select nothing the question asked for, which also explain an empty result:
    # a year the question never mentions (a copied example), a value the column never holds.
    allowed = {int(y) for y in asked_years} | {int(y) + 1 for y in asked_years}
    allowed |= {y for span in spans if span.start and span.end for y in range(span.start.year, span.end.year)}
    # ... and the day before a bound ("<= '1992-12-31'" for "before 1993").
    allowed |= {bound.year - 1 for span in spans for bound in (span.start, span.end) if bound is not None}
    stray = [
        f"the query filters on {extra}, which the question does not mention"
        for extra in sorted({int(y) for y in _YEAR.findall(literals)} - allowed)
    ]
    stray += unknown_value_problems(sql, catalog)
    stray += _unasked_value_problems(question, sql, catalog, glossary)
    # The result must exist and carry a value.
    if not table.rows:
        return ["the query returned no rows", *stray]
    if all(v is None for row in table.rows for v in row):
        return ["the query returned only empty values", *stray]
    problems.extend(stray)

    # Every year the question names (or a relative period resolves to) must filter the query...
    for year in whole_years:
        if year not in lowered_sql:
            problems.append(f"the question is about {year} but the query does not filter on it")
    # ...and every figure it shows: an "overall share" computed over all years is not 1996's.
    problems.extend(_unfiltered_figure_problems(sql, whole_years))
    # ...and a span is bounded where it is bounded: "before 1993" is not 1993.
    problems.extend(span_problems(question, sql))
    # ...on both sides: ">= '1996-01-01'" alone runs on to the data's end.
    problems.extend(open_year_problems(sql, whole_years))
    # ...and a moment ("on staff at the end of 1997") is that day, not the year it ends.
    problems.extend(point_problems(question, sql, set(question_years(question)) - moment_years))
    # ...and "in both 1995 and 1996" is each year, not either.
    problems.extend(_both_years_problems(question, lowered_sql))

    # A whole year asked for must not shrink to one day or month ("month = '1997-01-01'").
    problems.extend(_partial_year_problems(question, lowered_sql, period_years, span_years))
    # ...nor a month or quarter to its first day ("l_shipdate = '1995-09-01'").
    problems.extend(_one_day_problems(question, lowered_sql))
    # A named quarter or month must be covered from its first day to its last.
    problems.extend(_named_period_problems(question, lowered_sql))
    # ...and a named day must be a bound of the query, not widened to its year.
    problems.extend(_named_day_problems(question, lowered_sql))
    # "<= '1997-01-01'" for 1996 takes in the next year's first day (a monthly table's first month).
    for year in sorted(set(question_years(question)) - span_years):
        after = f"{int(year) + 1}-01-01"
        if (
            re.search(rf"(?:<=|\band)\s*(?:date\s*)?'{after}'", lowered_sql)
            and str(int(year) + 1) not in question
        ):
            problems.append(f"'<= {after}' takes in {after}, which is after {year}; use < {after}")
    # "Customer and supplier in the same nation" equates the two keys, beyond the joins.
    problems.extend(_same_problems(question, lowered_sql, catalog))
    # strftime(d, '%Y-%m') >= '1995-01-01' compares text of another shape.
    problems.extend(text_date_problems(sql))
    # "In 1996" has two ends: ">= '1996-01-01'" alone takes in every later year.
    problems.extend(_open_period_problems(question, sql))
    # Period labels in the result ('1997-01') must lie inside the period asked about.
    problems.extend(_period_label_problems(question, table, asked_years))

    # "< DATE '1995-12-31'" silently drops the last day of the period.
    for day in re.findall(r"<\s*(?:date\s*)?'(\d{4}-\d{2}-(?:28|29|30|31))'", lowered_sql):
        problems.append(f"'< {day}' leaves out {day} itself; use <= or the first day of the next period")

    # Named categorical values must appear as literals.
    used = _used_tables(idents, catalog)
    for value, column in named_values(question, catalog).items():
        tokens = [w for w in re.split(r"[^a-z0-9]+", value.lower()) if len(w) >= 3]
        # "marketing campaigns" does not name the employees' department 'Marketing': a value binds
        # when the query reads its table, or when the question writes it as the data spells it,
        # in capitals ("ASIA") or capitalized past the first word ("spend on Travel").
        exact = (value.isupper() and value in question) or spelled_as_data(question, value)
        if column.split(".", 1)[0].lower() not in used and not exact:
            continue
        if not all(t in literals for t in tokens):
            problems.append(f"the question names {value!r} ({column}) but the query does not filter on it")
    for word, column in named_value_words(question, catalog).items():
        if word.lower() not in literals:
            problems.append(
                f"the question names {word!r}, a word of {column} values, but the query does not filter on it"
            )

    # A dated event in the question ("shipped", "hired", "received") must use its date column.
    words = {_stem(w) for w in _WORD.findall(question) if len(w) >= 4}
    events = question_events(question)
    # ...also with no period named, where the query compares dates ("shipped on its commit date").
    dates = {c.name.lower() for t in catalog.tables for c in t.columns if c.is_date}
    compared = len(dates & idents) >= 2 and not _DURATION.search(question)  # durations: checked below
    if question_years(question) or period_years or compared:
        for stem, columns in dated_words(catalog).items():
            if any(e[:4] == stem[:4] and len(e) >= 4 for e in events) and not columns & idents:
                problems.append(
                    f"the question mentions '{stem}…' but the query uses none of {', '.join(sorted(columns))}"
                )

    # "Activities logged in Q1 2024" are dated by their own activity_date, not their opportunity's.
    if question_years(question) or period_years:
        problems.extend(_foreign_date_problems(question, sql, catalog))

    # A time between events ("days between an order being placed and its items shipping") is
    # measured on those events' own date columns, not on two others.
    if _DURATION.search(question):
        asked = [w.lower() for w in _WORD.findall(question) if len(w) >= 4]
        for stem, columns in dated_words(catalog).items():
            if any(w.startswith(stem[:4]) for w in asked) and not columns & idents:
                problems.append(
                    f"the question measures time from or to '{stem}…', but the query uses none of "
                    f"{', '.join(sorted(columns))}"
                )

    # Words that name a table must reach it: "customers" is not answered from orders alone.
    for info in catalog.tables:
        singular = _stem(info.name.split(".")[-1].split("_")[-1])
        if len(singular) < 4 or singular in _STOP:
            continue
        # Reached when the SQL names it, or a table the query reads carries it ("customer_key").
        covered = any(singular[:4] in i for i in idents) or any(
            singular[:4] in col.name.lower()
            for t in catalog.tables
            if t.name.lower() in used
            for col in t.columns
        )
        if singular in words and not covered:
            problems.append(
                f"the question is about {info.name} but the query does not use it"
                + _counterparts(info, sql, used, catalog)
            )

    # "Never placed an order": what did not happen is not counted from what did.
    problems.extend(_negation_problems(question, lowered_sql))
    if (negated := _NEGATED.search(question)) is not None:
        problems.extend(absent_counted_problems(question, negated.group(0), sql, catalog))
    defined = _OWN_DEFINITION.search(question)
    # "Met their annual quota": a column the question spells out, of a table the query reads, is used
    # (past an own definition, the stricter check below has every column it names).
    problems.extend(
        _named_column_problems(question[: defined.start()] if defined else question, idents, used, catalog)
    )

    # A measure the business has defined must be computed its way ("revenue" is not a budget).
    own_definition = defined is not None
    # A measure the question defines itself ("i.e. available quantity times supply cost") is
    # computed from the columns it names.
    if defined is not None:
        for columns in named_columns(question[defined.end() :], catalog):
            if not columns & idents:
                named = " or ".join(sorted(columns))
                problems.append(f"the question defines its measure with {named}; the query does not use it")
    measures = glossary.measures_named(question) if glossary is not None and not own_definition else []
    # "The total extended price" is that column's sum: not revenue, which also takes off the discount.
    if not own_definition:
        problems.extend(_unasked_factor_problems(question, sql, catalog, measures))
    # "Travel expenses" are not the expense budget: a column named like the measure is another one.
    for column, definition in (
        glossary.look_alikes(question, catalog, stems=True) if measures and glossary else []
    ):
        if column.rpartition(".")[2].lower() in idents:
            problems.append(
                f"the query uses {column}, which is not {definition.words[0]}: the question asks for "
                f"{definition.term}, {definition.meaning}"
            )
    for definition in measures:
        # "Hires in 1996" are dated by hire_date; "how many were ever hired" names no period.
        missing = [c for c in definition.uses if c.lower() not in idents]
        if missing and not (definition.dated and not asked_years):
            problems.append(
                f"the question asks for {definition.term}, defined as {definition.meaning}; "
                f"the query does not use {', '.join(missing)}"
            )

    # "How many orders" over orders JOIN lineitem counts line items: a join multiplies rows,
    # and so does avg(c_acctbal) over customer JOIN orders; "how many customers" counts customers.
    problems.extend(fan_out_problems(sql, catalog, question))
    # What the text cannot tell, the data answers: which join values repeat, which lists hold NULL.
    if probe is not None:
        problems.extend(repeated_join_problems(question, sql, catalog, probe))
        problems.extend(null_membership_problems(sql, probe))
        problems.extend(period_average_problems(question, sql, catalog, probe))
    problems.extend(counted_table_problems(question, sql, catalog))
    problems.extend(counted_amount_problems(question, sql, catalog))
    problems.extend(stray_distinct_count_problems(question, sql, catalog))
    problems.extend(grouped_window_problems(sql))
    problems.extend(ungrouped_having_problems(sql))
    problems.extend(inner_null_problems(sql, catalog))
    problems.extend(unlinked_join_problems(sql, catalog))
    problems.extend(summed_share_problems(sql, catalog))
    problems.extend(key_mismatch_problems(sql, catalog))
    problems.extend(window_repeat_problems(sql, table))

    # The aggregation must fit the question's measure.
    # "The average number of leads per campaign" may average a column that holds the count.
    averaged_count = _averages_count_column(question, lowered_sql, catalog)
    counts = re.search(r"\bcount\s*\(|\bsum\s*\(", lowered_sql)
    if _COUNT.search(question) and not counts and not averaged_count:
        problems.append("the question asks how many, but the query counts nothing")
    problems.extend(_most_things_problems(question, lowered_sql, catalog, glossary))
    if _AVG.search(question) and not re.search(r"\bavg\s*\(|\bmean\s*\(|/", lowered_sql):
        problems.append("the question asks for an average, but the query computes none")
    # The middle value, not the mean or a fraction of it.
    if _MEDIAN.search(question) and not _MEDIAN_SQL.search(lowered_sql):
        problems.append("the question asks for the median, but the query computes none: use median(...)")
    if _asks_total(question, catalog) and not re.search(r"\bsum\s*\(|\bcount\s*\(", lowered_sql):
        problems.append("the question asks for a total, but the query adds nothing up (no sum)")
    if _TOP.search(question) and not re.search(r"\bdesc\b|\bmax\s*\(|\barg_max\s*\(", lowered_sql):
        problems.append("the question asks for the highest, but the query does not order descending")
    if (
        _BOTTOM.search(question)
        and re.search(r"\bdesc\b", lowered_sql)
        and not re.search(r"\bmin\s*\(|\basc\b", lowered_sql)
    ):
        problems.append("the question asks for the lowest, but the query orders descending")

    problems.extend(_excluded_measure_problems(question, sql, catalog))
    problems.extend(_rate_amount_problems(question, sql, catalog))
    problems.extend(_unused_number_problems(question, sql))
    problems.extend(_unused_name_problems(question, sql))
    problems.extend(_constant_figure_problems(table))
    problems.extend(_shape_problems(question, table))
    problems.extend(_column_breakdown_problems(question, table, catalog))
    problems.extend(_day_label_problems(question, table))
    problems.extend(_count_problems(question, sql, table))
    problems.extend(_part_of_whole_problems(question, sql, table, catalog))
    problems.extend(_one_row_average_problems(sql))
    problems.extend(_overall_problems(question, sql))
    problems.extend(_entity_problems(question, table, catalog))
    problems.extend(_label_problems(question, table, catalog))
    problems.extend(_dimension_problems(question, table, catalog))
    problems.extend(_year_comparison_problems(question, table))
    problems.extend(_year_change_problems(question, sql))
    if _OVERALL.search(question):
        problems.extend(_group_level_overall_problems(sql))
        if sum(1 for c in table.columns if _is_numeric(table, c)) < 2:
            problems.append(
                "the question asks how it compares with the overall figure, but the result has no second "
                "figure (add the overall one as a column)"
            )
        elif (same := _identical_figures(table)) is not None:
            problems.append(
                f"columns {same[0]} and {same[1]} hold the same figures: the overall one must be computed "
                "over all rows (a subquery), not the group's"
            )
    return problems


# A number the question states: "size 15", "over $5,000", "5%", "1.5 million", "top 3".
_NUMBER = re.compile(
    r"(?<![\w.#-])(\d+(?:,\d{3})*(?:\.\d+)?)(?![\w.]\d)\s*(%|percent\b|thousand\b|k\b|million\b|m\b|billion\b|bn\b)?",
    re.I,
)
_SCALE = {
    "%": 0.01,
    "percent": 0.01,
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
}
# "The last 6 months" is turned into dates, not compared with 6.
_RELATIVE = re.compile(r"\b(?:last|past|previous|prior|recent|next|first|trailing)\s+$", re.I)
_SQL_NUMBER = re.compile(r"(?<![A-Za-z_])\d*\.?\d+")


def _unused_number_problems(question: str, sql: str) -> list[str]:
    """ "How many parts of size 15?" answered without 15 anywhere in the query counts other parts:
    every number the question states (but a year or a relative period) is in the query."""
    used = [float(n) for n in _SQL_NUMBER.findall(sql)]
    # A written-out day ("March 31, 1995") is a date; _named_day_problems judges it.
    for day in (*_MONTH_DAY_YEAR.finditer(question), *_DAY_MONTH_YEAR.finditer(question)):
        question = question[: day.start()] + " " * len(day.group(0)) + question[day.end() :]
    problems = []
    for match in _NUMBER.finditer(question):
        text, unit = match.group(1), (match.group(2) or "").lower()
        if _YEAR.fullmatch(text) or _RELATIVE.search(question[: match.start()]):
            continue
        value = float(text.replace(",", ""))
        forms = {value, value * _SCALE[unit]} if unit else {value}
        if not any(abs(u - f) <= 1e-9 * max(1.0, abs(f)) for u in used for f in forms):
            problems.append(f"the question states {match.group(0).strip()}, but the query never uses it")
    return problems


_NUMBERED_NAME = re.compile(r"\b[A-Za-z]+#0*(\d+)\b")


def _unused_name_problems(question: str, sql: str) -> list[str]:
    """ "Orders of Customer#000000010" answered over all customers: a numbered name the question
    writes is in the query, as itself or as its number (the key it is named after)."""
    used = {float(n) for n in _SQL_NUMBER.findall(sql)}
    return [
        f"the question names {match.group(0)}, but the query never uses it"
        for match in _NUMBERED_NAME.finditer(question)
        if match.group(0).lower() not in sql.lower() and float(match.group(1)) not in used
    ]


_EXCLUDED = re.compile(
    r"\b(?:before|excluding|without|ignoring|not\s+counting)\s+"
    r"(?:(?:the|any|all|their|its)\s+)?([a-z]{3,})",
    re.I,
)
_WHAT_IF_DIFFERENCE = re.compile(
    r"\bhow\s+much\s+(?:more|less|higher|lower)\b|\bdifference\b|\bwould\b.*\b(?:gain|lose|change)\b",
    re.I,
)
# "With a discount above 5%" filters on the discount; "after"/"including"/"net of" apply it.
_INCLUDED = re.compile(r"\b(?:after|including|net\s+of)\s+(?:(?:the|any|all|their|its)\s+)?([a-z]{3,})", re.I)


def _measure_columns(word: str, catalog: SchemaCatalog) -> set[str]:
    """Numeric columns a word names ("discounts" -> {l_discount}, "tax" -> {l_tax})."""
    stem = _stem(word)
    return {
        c.name.lower()
        for t in catalog.tables
        for c in t.columns
        if c.numeric and not c.is_date and (parts := _name_parts(c.name)) and _stem(parts[-1]) == stem
    }


def _figure_columns(sql: str) -> set[str] | None:
    """Columns the query's figures are computed from (its SELECT lists, not its filters)."""
    tree = parse(sql)
    if tree is None:
        return None
    return {
        col.name.lower()
        for select in tree.find_all(exp.Select)
        for projection in select.expressions
        for col in projection.find_all(exp.Column)
    }


def _excluded_measure_problems(question: str, sql: str, catalog: SchemaCatalog) -> list[str]:
    """A figure "before discounts" is computed without the discount column, and "after tax" with
    the tax column: a figure that applies what the question leaves out (or the reverse) answers
    another measure, however many samples agree on it."""
    figures = _figure_columns(sql)
    if figures is None:
        return []
    problems = []
    # "How much more would we have made without the discounts?" asks for the difference, which is
    # the excluded measure itself.
    excluded = [] if _WHAT_IF_DIFFERENCE.search(question) else _EXCLUDED.finditer(question)
    for match in excluded:
        for column in sorted(_measure_columns(match.group(1), catalog) & figures):
            problems.append(
                f"the question asks for the figure {match.group(0).lower()!r}, but the query computes it "
                f"with {column}"
            )
    for match in _INCLUDED.finditer(question):
        columns = _measure_columns(match.group(1), catalog)
        if columns and not columns & figures:
            problems.append(
                f"the question asks for the figure {match.group(0).lower()!r}, but the query's figures do "
                f"not use {' or '.join(sorted(columns))}"
            )
    return problems


_AMOUNT_ASKED = re.compile(r"\b(?:total|sum|amount|how\s+much|value|cost)\b", re.I)
_RATE_ASKED = re.compile(r"\b(?:average|avg|mean|rate|percent|percentage|share|ratio)\b", re.I)
_APPLIED = re.compile(
    r"\b(?:after|net\s+of|less|minus|including|excluding|without|before|ignoring)\s+"
    r"(?:(?:the|any|all|their|its)\s+)?([a-z]{3,})",
    re.I,
)


def _rate_amount_problems(question: str, sql: str, catalog: SchemaCatalog) -> list[str]:
    """ "The total discount amount" is each amount times its rate (``l_extendedprice * l_discount``);
    the amount times one minus the rate is what is left after the discount, another measure. Only
    a question that applies the rate ("after discounts", "without tax") asks for that."""
    if (
        _WHAT_IF_DIFFERENCE.search(question)
        or _RATE_ASKED.search(question)
        or not _AMOUNT_ASKED.search(question)
    ):
        return []
    asked = {_stem(w) for w in _WORD.findall(question.lower())}
    applied = {_stem(m.group(1)) for m in _APPLIED.finditer(question)}
    lowered = sql.lower()
    problems = []
    for info in catalog.tables:
        for column in info.columns:
            word = _stem(_name_parts(column.name)[-1])
            name = re.escape(column.name.lower())
            if not column.share or word not in asked or word in applied:
                continue
            complement = re.search(rf"\(\s*1\s*-\s*(?:\w+\.)?{name}\s*\)", lowered)
            scaled = re.search(rf"\*\s*(?:\w+\.)?{name}\b|\b{name}\s*\*", lowered)
            if complement and not scaled:
                problems.append(
                    f"the question asks for the {word} itself, but the query computes what is left after it "
                    f"(1 - {column.name}); the {word} amount is the amount times {column.name}"
                )
    return problems


_OVERALL = re.compile(r"\b(?:compare[sd]?|comparison)\b.*\boverall\b|\boverall\b.*\bcompare", re.I)


def _group_level_overall_problems(sql: str) -> list[str]:
    """``sum(late) * 100 / (SELECT count(*) ...) AS overall_share`` in a grouped query divides the
    group's own count: an overall figure is computed wholly over all rows (a subquery or OVER ())."""
    tree = parse(sql)
    problems = []
    for select in tree.find_all(exp.Select) if tree is not None else []:
        if select.args.get("group") is None:
            continue
        for projection in select.expressions:
            if "overall" not in projection.alias_or_name.lower():
                continue
            grouped = [agg for agg in projection.find_all(exp.AggFunc) if _per_group(agg, select)]
            if grouped:
                problems.append(
                    f"{projection.alias_or_name} uses the group's own {grouped[0].sql(dialect='duckdb')}: "
                    "an overall figure must be computed over all rows (a subquery or OVER ())"
                )
    return problems


_MOST_OF = re.compile(r"\b(?:most|fewest|least|more|fewer)\s+([a-z]+)(?:\s+([a-z]+))?", re.I)


def _most_things_problems(
    question: str, lowered_sql: str, catalog: SchemaCatalog, glossary: Glossary | None
) -> list[str]:
    """ "Placed the most orders" ranks by how many orders, not by their total price."""
    measures = {w.lower() for d in (glossary.definitions if glossary else []) for w in d.words}
    tables = {_stem(t.name.split(".")[-1]) for t in catalog.tables}
    for match in _MOST_OF.finditer(question):
        words = [w.lower() for w in match.groups() if w]
        # "line items" names lineitem; "orders" names orders ("order value" names no table rows).
        named = words if _stem("".join(words)) in tables else words[:1]
        noun = "".join(named)
        if noun in measures or not noun.endswith("s") or _stem(noun) not in tables:
            continue
        if not re.search(r"\bcount\s*\(", lowered_sql):
            what = " ".join(named)
            return [f"the question asks for the most {what} (a count), but the query counts nothing"]
    return []


def _per_group(agg: exp.Expression, select: exp.Select) -> bool:
    """Whether ``agg`` is computed per group of ``select``: not in a subquery, not under OVER."""
    node = agg.parent
    while node is not None and node is not select:
        if isinstance(node, exp.Window | exp.Select | exp.Subquery):
            return False
        node = node.parent
    return node is select


_ABBREVIATIONS = {"quantity": "qty", "account": "acct", "balance": "bal", "number": "num", "amount": "amt"}


_NEGATED = re.compile(
    r"\bnever\b|\b(?:have|has|had|did|do|does)(?:\s+not|n't)\b|\bwithout\s+(?:any|an?)\b|"
    r"\b(?:with|have|has|had|having|contain|contains|contained|include|includes)\s+no\b"
    r"(?!\s+(?:later|earlier|more|less|fewer|longer|sooner)\b)|"
    # "placed no orders", "supply no parts", "received zero discount"; not "no more than".
    r"(?<=[a-z] )(?:no|zero)\s+(?!(?:later|earlier|more|less|fewer|longer|sooner|than|one)\b)[a-z]{3,}",
    re.I,
)
_SQL_NEGATION = re.compile(r"\bnot\b|\bexcept\b|\bis\s+null\b|=\s*0\b|<>|!=|\banti\s+join\b", re.I)


def _negation_problems(question: str, lowered_sql: str) -> list[str]:
    """A question about what never happened ("customers who never placed an order") needs a query
    that excludes (NOT IN, NOT EXISTS, EXCEPT, IS NULL, = 0); without one it counts what did."""
    asked = _NEGATED.search(question)
    if asked is None or _SQL_NEGATION.search(lowered_sql):
        return []
    return [
        f"the question asks about what did not happen ({asked.group(0)!r}), but the query excludes "
        "nothing (no NOT IN, NOT EXISTS, EXCEPT, IS NULL or = 0): it counts what did happen"
    ]


def _unasked_factor_problems(
    question: str, sql: str, catalog: SchemaCatalog, measures: list[Definition]
) -> list[str]:
    """A sum or average of a column the question names, scaled by another column that neither it
    nor a measure it names uses (``sum(l_extendedprice * (1 - l_discount))`` for "the total
    extended price")."""
    named = {c for columns in named_columns(question, catalog) for c in columns}
    measured = {
        w for d in measures for w in re.findall(r"[a-z_]+", " ".join([*d.uses, d.aggregate or ""]).lower())
    }
    tree = parse(sql)
    if not named or tree is None:
        return []
    problems = []
    for agg in tree.find_all(exp.Sum, exp.Avg):
        if agg.this.find(exp.Case) is not None:
            continue
        # Scaled by another column: a difference ("ship date - order date") is a span, not a scaling.
        for product in agg.this.find_all(exp.Mul, exp.Div):
            sides = [
                {c.name.lower() for c in side.find_all(exp.Column)}
                for side in (product.this, product.expression)
            ]
            for mine, theirs in (sides, sides[::-1]):
                for other in sorted(theirs - named - measured) if mine & named else ():
                    problems.append(
                        f"the question asks about {' or '.join(sorted(mine & named))}, but the query "
                        f"computes {agg.sql(dialect='duckdb')} with {other}, which it does not mention"
                    )
    return list(dict.fromkeys(problems))


def role_keys(text: str, catalog: SchemaCatalog) -> list[set[str]]:
    """Keys named for a role, not for the table they point at, that the text names by its word:
    "accounts owned by Farah Chen" -> {owner_rep_id}. (``o_custkey`` and ``account_id`` are
    named for their tables: those words name the tables.)"""
    words = {w.lower()[:4] for w in re.findall(r"[A-Za-z]{4,}", text)}
    tables = {part[:4] for t in catalog.tables for part in t.name.lower().split("_")}
    found = []
    for table in catalog.tables:
        for col in table.columns:
            parts = _name_parts(col.name)
            if not re.search(r"(?:_id|key)$", col.name.lower()) or len(parts) < 2 or len(parts[0]) < 4:
                continue
            if parts[0][:4] not in tables and parts[0][:4] in words:
                found.append({col.name.lower()})
    return found


def _named_column_problems(
    question: str, idents: set[str], used: set[str], catalog: SchemaCatalog
) -> list[str]:
    """A column the question spells out in two words ("annual quota", "commit date"), or a key it
    names by its role ("owned by"), that only tables the query reads hold must be used: otherwise
    the query answers without it."""
    read = {col.name.lower() for t in catalog.tables if t.name.lower() in used for col in t.columns}
    problems = []
    for columns in [*named_columns(question, catalog), *role_keys(question, catalog)]:
        if columns & read and not columns & idents:
            named = " or ".join(sorted(columns))
            problems.append(f"the question names {named}, but the query does not use it")
    return problems


def _counterparts(info: TableInfo, sql: str, used: set[str], catalog: SchemaCatalog) -> str:
    """ "; it has s_acctbal where the query reads c_acctbal": the asked table's own column for a
    column the query's results come from, taken from another table (a small model told only "use
    supplier" keeps its customer query)."""
    tree = parse(sql)
    shown = {
        c.name.lower()
        for select in (tree.find_all(exp.Select) if tree is not None else [])
        for e in select.expressions
        for c in e.find_all(exp.Column)
    }
    pairs = {
        mine.name: f"{info.name}.{mine.name} where the query reads {table.name}.{col.name}"
        for table in catalog.tables
        if table.name.lower() in used and table.name != info.name
        for col in table.columns
        if col.name.lower() in shown and (bare := _unprefixed(col.name))
        for mine in info.columns
        if _unprefixed(mine.name) == bare
    }
    return f"; it has {', '.join(list(pairs.values())[:3])}" if pairs else ""


_TOTAL = re.compile(r"\b(?:total|sum of)\s+([a-z]+)", re.I)


def _asks_total(question: str, catalog: SchemaCatalog) -> bool:
    """ "What was the total extended price ..." asks for a sum, unless "total" is part of a column's
    name ("the largest order total price" is o_totalprice) or the question ranks or lists."""
    if not asks_one_figure(question):
        return False
    return any(not named_columns(f"total {m.group(1)}", catalog) for m in _TOTAL.finditer(question))


def _unprefixed(column: str) -> str | None:
    """``c_acctbal`` -> ``acctbal``: the name without its table's short prefix, if it has one."""
    match = re.fullmatch(r"[a-z]{1,2}_(\w+)", column.lower())
    return match.group(1) if match else None


def named_columns(text: str, catalog: SchemaCatalog) -> list[set[str]]:
    """The columns each two-word phrase spells out: "available quantity" -> {ps_availqty},
    "account balance" -> {c_acctbal, s_acctbal} (each word by its stem or usual abbreviation)."""
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    found = []
    for first, second in itertools.pairwise(words):
        if len(first) < 4 or len(second) < 3:
            continue
        head, tail = _ABBREVIATIONS.get(first, first[:4]), _ABBREVIATIONS.get(second, second[:4])
        columns = {
            col.name.lower()
            for table in catalog.tables
            for col in table.columns
            if (bare := "".join(_name_parts(col.name))).startswith(head)
            and tail in bare[len(head) :]
            and len(bare) <= len(first + second)
        }
        if columns:
            found.append(columns)
    return found


def _constant_figure_problems(table: Table) -> list[str]:
    """Five regions with the same revenue to the cent: a figure that does not vary across three or
    more rows, in a result where no figure varies, was computed without regard to the rows' groups
    (a join that pairs every row with every row). Whole numbers can tie ("5 nations in each region")."""
    figures = [c for c in table.columns if _is_numeric(table, c)]
    if len(table.rows) < 3 or len(figures) == len(table.columns) or not figures:
        return []
    constant = [c for c in figures if len(set(table.column(c))) == 1]
    if len(constant) < len(figures):
        return []
    fractional = [c for c in constant if isinstance(v := table.column(c)[0], float) and not v.is_integer()]
    return [
        f"every row has the same {c} ({table.column(c)[0]}): the figure does not depend on the row's "
        "group (check the joins)"
        for c in fractional
    ]


def _is_numeric(table: Table, column: str) -> bool:
    values = [v for v in table.column(column) if v is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _entity_problems(question: str, table: Table, catalog: SchemaCatalog) -> list[str]:
    """ "Which nation ..." answered with a region's name: the labels come from another table."""
    asked = re.search(r"\b(?:which|what)\s+([a-z]+)", question.lower())
    if asked is None:
        return []
    noun = _stem(asked.group(1))
    entity = next((t.name.lower() for t in catalog.tables if _stem(t.name.split("_")[-1]) == noun), None)
    if entity is None:
        return []
    own: set[str] = set()
    other: dict[str, str] = {}
    for column, values in catalog.categorical().items():
        for value in values:
            if column.split(".", 1)[0].lower() == entity:
                own.add(str(value))
            else:
                other.setdefault(str(value), column)
    labels = [v for row in table.rows for v in row if isinstance(v, str)]
    if labels and not own.intersection(labels) and all(label in other for label in labels):
        return [
            f"the question asks which {asked.group(1)}, but {labels[0]!r} is a value of {other[labels[0]]}, "
            f"not of {entity}"
        ]
    return []


# "How many more employees were hired in 1997 than in 1996": a difference as much as a growth.
_MORE_THAN = re.compile(r"\b(?:more|fewer|less)\b[^?.;]*\bthan\b", re.I)
_DATED_KEY = re.compile(r"year|date|month|strftime|extract|trunc", re.I)


def _year_change_problems(question: str, sql: str) -> list[str]:
    """ "By how much did Travel expenses grow from 1996 to 1997" is one year's figure less the
    other's: a query that adds up both years' rows together (or filters on neither apart) has
    no second figure to subtract."""
    years = question_years(question)
    tree = parse(sql)
    if len(years) != 2 or not (_CHANGE.search(question) or _MORE_THAN.search(question)) or tree is None:
        return []
    # A row per year ("GROUP BY year(month)") holds both figures.
    if any(_DATED_KEY.search(g.sql(dialect="duckdb")) for g in tree.find_all(exp.Group)):
        return []
    # Else each year needs its own condition: an aggregate's FILTER, a CASE branch or a subquery.
    scopes = [
        node.sql(dialect="duckdb")
        for node in [
            *tree.find_all(exp.Filter, exp.If),
            *(q for q in tree.find_all(exp.Select) if q is not tree),
        ]
    ]
    if len({text for text in scopes if any(y in text for y in years)}) >= 2:
        return []
    return [
        f"the question asks how the figure changed from {years[0]} to {years[1]}, but the query does not "
        "compute each year's figure on its own; compute each (sum(...) FILTER (WHERE <its year>), or a "
        "subquery each) and subtract"
    ]


def compares_years(question: str) -> list[str]:
    """The years a question sets side by side ("compare revenue in 1996 and 1997"), else []."""
    years = question_years(question)
    return years if len(years) >= 2 and _COMPARES.search(question) else []


def _year_comparison_problems(question: str, table: Table) -> list[str]:
    years = compares_years(question)
    if not years:
        return []
    # One row per year (a column holding the years) states each year's figure too.
    if any({str(v) for v in table.column(c)} >= set(years) for c in table.columns):
        return []
    figures = [c for c in table.columns if _is_numeric(table, c)]
    if len(figures) < len(years):
        return [
            f"the question compares {' and '.join(years)}, but the result has no figure per year "
            "(a column for each year)"
        ]
    same = _identical_figures(table)
    if same is not None:
        return [
            f"columns {same[0]} and {same[1]} hold the same figures: each year's column must filter "
            "on its own year"
        ]
    return []


def _identical_figures(table: Table) -> tuple[str, str] | None:
    """Two numeric columns with the same values on every row: one figure computed twice."""
    figures = [c for c in table.columns if _is_numeric(table, c)]
    for i, first in enumerate(figures):
        for second in figures[i + 1 :]:
            if table.column(first) == table.column(second):
                return first, second
    return None


_PERIODS = frozenset({"month", "quarter"})
_KEY_NAME = re.compile(r"(?:key|_id|^id|number|_no)$", re.I)


def _label_problems(question: str, table: Table, catalog: SchemaCatalog) -> list[str]:
    """A breakdown or ranking names each thing once, by its name: "by region" answered with
    region keys (0, 1, 2), or a customer listed twice, is not the answer."""
    dims = breakdowns(question)
    ranked = _TOP.search(question) is not None or _BOTTOM.search(question) is not None
    problems = []
    labels = [c for c in table.columns if not _is_numeric(table, c)]
    ids = [c for c in table.columns if _KEY_NAME.search(c)]
    if (ranked or len(dims) == 1) and len(dims) <= 1 and len(labels) == 1 and not ids:
        seen = [str(v) for v in table.column(labels[0])]
        repeated = next((v for v in seen if seen.count(v) > 1), None)
        if repeated is not None:
            problems.append(
                f"the result lists {repeated!r} more than once; return one row per {labels[0]} (GROUP BY it)"
            )
    for dim in dims:
        # "suppliers_per_nation" is a measure named for the breakdown, not its label.
        named = [
            c for c in table.columns if dim in c.lower() and not re.search(rf"(?:per|by)_{dim}", c.lower())
        ]
        if dim in _PERIODS or not named or not all(_is_numeric(table, c) for c in named):
            continue
        column = named[0]
        values = [v for v in table.column(column) if v is not None]
        names = _name_columns(catalog, dim)
        if names and all(isinstance(v, int) for v in values):
            problems.append(
                f"the {column} column holds keys ({', '.join(str(v) for v in values[:3])}), not "
                f"{dim} names; select {names[0]}"
            )
    return problems


def _dimension_problems(question: str, table: Table, catalog: SchemaCatalog) -> list[str]:
    """ "Top 3 nations by ..." answered with regions: one breakdown asked, and no column of the
    result names it or holds its names."""
    dims = breakdowns(question)
    if len(dims) != 1 or dims[0] in _PERIODS:
        return []
    dim = dims[0]
    categorical = catalog.categorical()
    columns = _name_columns(catalog, dim)
    known = {v for c in columns for v in categorical.get(c, [])}
    if not known:
        # Names too many to list (customers): a column named for the breakdown is all there is to go on.
        return []
    # The names themselves, not a column's name: "r_name AS nation" still lists regions.
    for column in table.columns:
        values = [str(v) for v in table.column(column) if v is not None]
        if values and all(v in known for v in values):
            return []
    return [f"the question asks by {dim}, but no column of the result holds {dim} names ({columns[0]})"]


def _name_columns(catalog: SchemaCatalog, dimension: str) -> list[str]:
    """Text columns that name a ``dimension``: a column named for it, or the name column of its table."""
    own, named = [], []
    for info in catalog.tables:
        is_own = _stem(info.name.split(".")[-1]) == dimension
        for col in info.columns:
            name = col.name.lower()
            if col.numeric or col.is_date:
                continue
            if is_own and "name" in name:
                own.append(f"{info.name}.{col.name}")
            elif dimension in name:
                named.append(f"{info.name}.{col.name}")
    return own + named


_PART_OF_YEAR = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|\bq[1-4]\b|\bh[12]\b|"
    r"\b(?:quarter|half|week|month of|day|summer|winter|spring|autumn|fall|to date|ytd|mid)\b|"
    r"\b\d{4}-\d{2}-\d{2}\b",
    re.I,
)


def asks_part_of_year(question: str) -> bool:
    """Whether the question narrows a year to a month, quarter, day ... ("in Q3 1997"); a month or
    quarter it breaks the year down by ("departures by quarter in 1997") does not narrow it."""
    text = question.lower()
    for dimension in {"month", "quarter"} & set(breakdowns(question)):
        text = re.sub(rf"\b{dimension}(?:s|ly)?\b", " ", text)
    return _PART_OF_YEAR.search(text) is not None


_DAY_EQUALS = re.compile(
    r"([a-z_][a-z0-9_.]*)\s*(?<![<>!])=\s*(?:date\s*|cast\s*\(\s*)?'(\d{4}-\d{2}-\d{2})'"
)
# A question that names a day: "on 1995-09-01", "September 1, 1995", "1 September 1995".
_NAMES_DAY = re.compile(
    r"\b\d{4}-\d{2}-\d{2}\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?\b|"
    r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\bday\b|\bdaily\b",
    re.I,
)


_QUARTER = re.compile(rf"\b(?:{QUARTER_OF_YEAR})\b", re.I)
_MONTH = re.compile(rf"\b(?:{MONTH_OF_YEAR})\b", re.I)


_HALF = re.compile(r"\bh([12])\s+(\d{4})\b|\b(first|second)\s+half\s+of\s+(\d{4})\b", re.I)


def named_periods(question: str) -> list[tuple[str, str, str]]:
    """Quarters, halves and months the question names: (phrase, first day, first day after)."""
    out = []
    for m in _QUARTER.finditer(question):
        start, end = quarter_dates(m.group(1), m.group(3), m.group(2) or m.group(4))
        out.append((m.group(0), start.isoformat(), end.isoformat()))
    for m in _HALF.finditer(question):
        half = int(m.group(1)) if m.group(1) else ORDINAL[m.group(3).lower()]
        year = int(m.group(2) or m.group(4))
        end = f"{year}-07-01" if half == 1 else f"{year + 1}-01-01"
        out.append((m.group(0), f"{year}-{6 * half - 5:02d}-01", end))
    for m in _MONTH.finditer(question):
        if re.search(r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?$", question[: m.start()]):
            continue  # "1 March 1995" is a day (see named_days), not the month
        start, end = month_dates(m.group(1), m.group(2))
        out.append((m.group(0), start.isoformat(), end.isoformat()))
    return out


# "From January to June", "at the end of June": a range's bound or a point in time, not the period.
_NOT_A_PERIOD = re.compile(
    r"\b(?:from|to|through|until|till|between|end of|start of|beginning of|as of)\s+$", re.I
)


def _named_period_problems(question: str, lowered_sql: str) -> list[str]:
    if re.search(r"(?<![\w.])month\s*(?:=|>|<|between\b)", lowered_sql):
        return []  # a monthly column: its first day stands for the whole month
    problems = []
    for phrase, start, end in named_periods(question):
        if _NOT_A_PERIOD.search(question[: question.find(phrase)]):
            continue
        literals = _date_literals(lowered_sql)
        year = start[:4]
        if not any(d.startswith(year) for d in literals):
            continue  # filtered another way (quarter(d) = 1, strftime ...): not judged here
        last = (date.fromisoformat(end) - timedelta(days=1)).isoformat()
        covers_end = end in literals or last in literals
        if start not in literals or not covers_end:
            problems.append(
                f"the question asks about {phrase}, {start} up to {end}, but the query's dates "
                f"({', '.join(sorted(literals))}) do not cover exactly that"
            )
    return problems


# A year the question bounds on one side only: "since 1995", "before 1997", "the previous year".
_OPEN_RANGE = re.compile(
    r"\b(?:since|after|before|until|till|through|thru|onwards?|previous|prior|preceding|following|"
    r"next|earlier|later|between|up to|as of|by the end)\b|\bfrom\s+(?:\w+\s+)?(?:19|20)\d\d\b",
    re.I,
)
_DAY_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def _date_literal_year(node: exp.Expr | None) -> int | None:
    """The year of a date literal: ``'1996-01-01'``, ``DATE '1996-01-01'``, ``CAST('...' AS DATE)``."""
    if isinstance(node, exp.Cast):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_string and (m := _DAY_TEXT.match(node.this)):
        return int(m.group(1))
    return None


def _open_period_problems(question: str, sql: str) -> list[str]:
    """ "Orders in 1996" filtered with ``o_orderdate >= '1996-01-01'`` alone takes in every later
    year; ``< '1997-01-01'`` alone every earlier one."""
    years = question_years(question)
    tree = parse(sql) if years and not _OPEN_RANGE.search(question) else None
    if tree is None:
        return []
    if tree.find(exp.Between, exp.Year, exp.Extract, exp.TimeToStr, exp.DateTrunc) is not None:
        return []  # bounded another way
    lower: set[int] = set()
    upper: set[int] = set()
    for node in tree.find_all(exp.GT, exp.GTE, exp.LT, exp.LTE):
        starts = isinstance(node, exp.GT | exp.GTE)
        year = _date_literal_year(node.expression)
        if year is None and (year := _date_literal_year(node.this)) is not None:
            starts = not starts  # '1996-01-01' <= d
        if year is not None:
            (lower if starts else upper).add(year)
    problems = []
    for year in map(int, years):
        if year in lower and not upper:
            problems.append(
                f"the query keeps dates from {year}-01-01 with no end, so later years count too; "
                f"add < '{year + 1}-01-01'"
            )
        elif upper & {year, year + 1} and not lower:
            problems.append(
                f"the query keeps dates before {max(upper & {year, year + 1})}-… with no start, so "
                f"earlier years count too; add >= '{year}-01-01'"
            )
    return problems


_LABEL_TEXT = re.compile(r"^(\d{4})(?:-(?:\d{2}|Q[1-4]))(?:-01)?(?:[ T][\d:.]+)?$", re.I)


def _period_label_problems(question: str, table: Table, asked_years: list[str]) -> list[str]:
    """A monthly breakdown of 1996 holds 1996's months only: a '1997-01' row means the query's
    period bounds are off."""
    if not asked_years or _OPEN_RANGE.search(question) or len(table.rows) < 2:
        return []
    span = range(int(min(asked_years)), int(max(asked_years)) + 1)
    problems = []
    for column in table.columns:
        years = []
        for value in table.column(column):
            if isinstance(value, date) and value.day == 1:
                years.append(value.year)  # a truncated period (date_trunc), not a day
            elif isinstance(value, str) and (m := _LABEL_TEXT.match(value)):
                years.append(int(m.group(1)))
            else:
                break
        else:
            outside = sorted({y for y in years if y not in span})
            if outside:
                asked = " to ".join(dict.fromkeys((asked_years[0], asked_years[-1])))
                problems.append(
                    f"column {column} holds periods of {', '.join(map(str, outside))}, outside the "
                    f"{asked} the question asks about"
                )
    return problems


def _foreign_date_problems(question: str, sql: str, catalog: SchemaCatalog) -> list[str]:
    """ "How many activities were logged in Q1 2024" dates activities by their own date column,
    not by the created_date of the opportunity they belong to (unless the question names that
    other event: "line items of orders placed in 1995")."""
    counted = counted_table(question, catalog)
    info = catalog.table(counted[1]) if counted is not None else None
    tree = parse(sql)
    where = tree.args.get("where") if isinstance(tree, exp.Select) else None
    if counted is None or info is None or where is None:
        return []
    own = {c.name.lower() for c in info.columns if c.is_date}
    dates = {c.name.lower() for t in catalog.tables for c in t.columns if c.is_date}
    filtered = {c.name.lower() for c in where.find_all(exp.Column)} & dates
    if not own or not filtered or filtered & own:
        return []
    events = question_events(question)
    named = {
        column
        for stem, columns in dated_words(catalog).items()
        if any(e[:4] == stem[:4] and len(e) >= 4 for e in events)
        for column in columns
    }
    if filtered & named:
        return []
    return [
        f"the question counts {counted[0]}, which are dated by {', '.join(sorted(own))}, but the query "
        f"filters on {', '.join(sorted(filtered))} of another table"
    ]


def _same_problems(question: str, lowered_sql: str, catalog: SchemaCatalog) -> list[str]:
    problems = []
    years = question_years(question)
    for m in re.finditer(r"\bsame\s+([a-z]+)", question.lower()):
        word = _stem(m.group(1))
        # "Hired in 1996 and left within the same year": both dates filtered on the one year named.
        if word == "year" and len(years) == 1 and lowered_sql.count(years[0]) >= 2:
            continue
        # "The same day" equates two date columns (l_shipdate = l_commitdate).
        stem = "(?:day|date)" if word in ("day", "date") else word
        pairs = re.findall(rf"(\w*{stem}\w*)\s*=\s*(\w*{stem}\w*)", re.sub(r"\b\w+\.", "", lowered_sql))
        own = {c.name.lower() for t in catalog.tables if _stem(t.name) == word for c in t.columns}
        # Tied together: two keys other than the dimension's own, directly or through its key.
        groups: list[set[str]] = []
        for a, b in pairs:
            merged = {a, b}.union(*[g for g in groups if g & {a, b}])
            groups = [g for g in groups if not g & {a, b}] + [merged]
        if not any(len(g - own) >= 2 for g in groups):
            problems.append(
                f"the question asks for the same {m.group(1)} on both sides, but the query never "
                f"equates the two {m.group(1)} keys (directly or through the {m.group(1)} table)"
            )
    return problems


def _one_day_problems(question: str, lowered_sql: str) -> list[str]:
    """A date column compared with ``=`` keeps one day; only a question about a day asks that. (A
    monthly column, whose dates are the months' first days, is compared that way rightly.)"""
    if _NAMES_DAY.search(question):
        return []
    return [
        f"{column} = '{day}' keeps the single day {day}; the question asks about a longer period "
        f"(use >= its first day and < the day after its last)"
        for column, day in _DAY_EQUALS.findall(lowered_sql)
        if "month" not in column
    ]


_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH_DAY_YEAR = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b",
    re.I,
)
_DAY_MONTH_YEAR = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b",
    re.I,
)


def named_days(question: str) -> list[date]:
    """The calendar days the question writes out: "1996-01-01", "January 1, 1996", "1st of March 1996"."""
    found = [(int(y), int(m), int(d)) for y, m, d in _ISO_DAY.findall(question)]
    found += [(int(y), month_number(m), int(d)) for m, d, y in _MONTH_DAY_YEAR.findall(question)]
    found += [(int(y), month_number(m), int(d)) for d, m, y in _DAY_MONTH_YEAR.findall(question)]
    days = []
    for year, month, day in found:
        try:
            days.append(date(year, month, day))
        except ValueError:
            continue  # not a calendar day ("2024-13-45")
    return sorted(set(days))


# A day written as a bound of a range: "since 1995-03-01", "before March 1, 1995".
_DAY_RANGE = re.compile(
    r"\b(?:between|from|since|after|before|until|till|through|thru|to|as of|by|up to|and)\s+(?:the\s+)?"
    r"(?:\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d)",
    re.I,
)


def _date_literals(lowered_sql: str) -> set[str]:
    """The days the query writes as literals ('1995-03-01')."""
    return set(re.findall(r"'(\d{4}-\d{2}-\d{2})", lowered_sql))


def _named_day_problems(question: str, lowered_sql: str) -> list[str]:
    """A day the question names must bound the query: that day's date, or the day before or after
    it (``> '1995-02-28'``, ``< '1995-04-01'`` for "through March 31")."""
    literals = _date_literals(lowered_sql)
    days = named_days(question)
    problems = []
    if len(days) == 1 and not _DAY_RANGE.search(question):
        # "On 1996-01-01": that day alone, = day or >= day and < the next; not its year or month.
        only, after = days[0].isoformat(), (days[0] + timedelta(days=1)).isoformat()
        # Any left side, unlike _DAY_EQUALS: ``CAST(o_orderdate AS DATE) = '1996-01-01'`` keeps the day too.
        equal = re.search(rf"(?<![<>!])=\s*(?:date\s*|cast\s*\(\s*)?'{only}'", lowered_sql)
        if not equal and not {only, after} <= literals:
            problems.append(
                f"the question asks about the single day {only}, but the query does not keep that day alone"
            )
        return problems
    for day in days:
        near = {(day + timedelta(days=shift)).isoformat() for shift in (-1, 0, 1)}
        if not near & literals:
            problems.append(f"the question names the day {day}, but the query does not filter on that day")
    return problems


def _partial_year_problems(
    question: str, lowered_sql: str, period_years: list[str] | None, span_years: set[str]
) -> list[str]:
    """Date literals inside a whole year the question asks about must bound the whole year."""
    if period_years or asks_part_of_year(question):
        return []
    problems = []
    for year in sorted(set(question_years(question)) - span_years):
        bounds = {f"{year}-01-01", f"{year}-12-31", f"{int(year) + 1}-01-01"}
        inside = set(re.findall(rf"'({year}-\d{{2}}-\d{{2}})", lowered_sql)) - bounds
        # Equality with one date keeps one day (or one month of a monthly table), never a year.
        inside |= set(re.findall(rf"(?<![<>!])=\s*(?:date\s*)?'({year}-\d{{2}}-\d{{2}})'", lowered_sql))
        if inside:
            problems.append(
                f"the question asks about all of {year}, but the query keeps only part of it "
                f"(it compares with {', '.join(sorted(inside))}); "
                f"cover {year}-01-01 up to {int(year) + 1}-01-01"
            )
    return problems


_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "twenty": 20,
}  # fmt: skip
_ASKED_N = re.compile(
    r"\b(?:top|bottom|first|last|best|worst|which|what|the|list)\s+(\d{1,3}|"
    + "|".join(_NUMBER_WORDS)
    + r")\b(?![\-.,]\d|-|\s*(?:%|(?:percent|per\s?cent|days?|weeks?|months?|quarters?|years?)\b))",
    re.I,
)


def asked_count(question: str) -> int | None:
    """How many rows a ranking asks for: "Which 5 nations ..." -> 5, "top ten" -> 10."""
    match = _ASKED_N.search(question)
    if match is None:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _count_problems(question: str, sql: str, table: Table) -> list[str]:
    """ "Which 5 suppliers ..." answered with LIMIT 1 (or with every supplier) is not the answer."""
    wanted = asked_count(question)
    if wanted is None or wanted < 2 or len(table.rows) == wanted:
        return []
    tree = parse(sql)
    limit = tree.args.get("limit") if isinstance(tree, exp.Select) else None
    count = limit.expression if limit is not None else None
    cut = int(count.this) if isinstance(count, exp.Literal) and count.is_int else None
    rows = len(table.rows)
    if (cut is not None and cut != wanted) or rows > wanted:
        return [f"the question asks for {wanted}, but the query returns {rows} row(s); use LIMIT {wanted}"]
    # "= (SELECT max(...))" keeps only the rows tied for first, however large the LIMIT.
    if _EXTREME_ONLY.search(sql):
        return [
            f"the question asks for {wanted}, but the query keeps only the rows equal to the maximum "
            f"or minimum ({rows} row(s)); ORDER BY the measure and LIMIT {wanted} instead"
        ]
    return []


_EXTREME_ONLY = re.compile(r"(?:=|\bin)\s*\(\s*select\s+(?:max|min)\s*\(", re.I)


_BY_PHRASE = re.compile(
    r"\b(?:by|per|for each|for every)\s+(?:the\s+|each\s+)?([a-z]+)(?:\s+([a-z]+))?", re.I
)


def breakdown_columns(question: str, catalog: SchemaCatalog) -> list[str]:
    """The categorical columns a "per/by ..." phrase names in this schema, beyond the usual
    dimension words: "per return flag" -> l_returnflag, "for each container" -> p_container."""
    found = []
    for match in _BY_PHRASE.finditer(question):
        first, second = (w.lower() for w in match.groups(default=""))
        named = set().union(*named_columns(f"{first} {second}", catalog)) if second else set()
        for table in catalog.tables:
            for col in table.columns:
                if not (col.values or col.known_values):
                    continue
                bare = "".join(_name_parts(col.name))
                if col.name.lower() in named or bare in (first, _stem(first)):
                    found.append(col.name)
    return list(dict.fromkeys(found))


def _column_breakdown_problems(question: str, table: Table, catalog: SchemaCatalog) -> list[str]:
    """ "Number of line items per return flag" answered with one row (one flag's count): the
    breakdown the schema's own column names was not made."""
    if len(table.rows) != 1 or grouped_by(question) or _TOP.search(question) or _BOTTOM.search(question):
        return []  # several rows, or the usual dimension words, which _shape_problems covers
    columns = breakdown_columns(question, catalog)
    if not columns:
        return []
    return [
        f"the question asks for a breakdown per {' or '.join(columns)}, but the query returned a single "
        "row; GROUP BY it, one row per value"
    ]


_ASKS_EXTREME_VALUE = re.compile(
    r"^\s*what (?:is|was|were|are) the (?:single )?(?:highest|lowest|largest|smallest|biggest|maximum|"
    r"minimum|max|min|top|greatest|least)\b(?![^?]*\b(?:name|who|which)\b)",
    re.I,
)


def _shape_problems(question: str, table: Table) -> list[str]:
    problems = []
    # DuckDB reads a bare table name ("SELECT region ...") as the whole row, a struct.
    nested = [
        c for i, c in enumerate(table.columns) if any(isinstance(r[i], dict | list) for r in table.rows)
    ]
    if nested:
        problems.append(
            f"column {nested[0]} holds whole table rows, not values (a table name was selected); "
            "select that table's name column instead"
        )
    years = set(question_years(question))
    if len(table.rows) == 1 and len(table.columns) == 1:
        value = table.rows[0][0]
        if str(value) in years:
            problems.append(f"the answer {value} is a year named in the question")
        column = table.columns[0].lower()
        if (column.endswith("key") or column.endswith("_id") or column == "id") and not re.search(
            r"\b(id|key|number)\b", question, re.I
        ):
            problems.append(f"the answer is an identifier column ({table.columns[0]}), not a measure")
    # "What was the highest salary": the salary itself, not who earned it.
    if (
        _ASKS_EXTREME_VALUE.search(question)
        and table.rows
        and not any(isinstance(v, int | float) and not isinstance(v, bool) for row in table.rows for v in row)
    ):
        problems.append(
            "the question asks for the value itself (a number), but the result holds none: "
            "select the figure (max(...) or min(...)), not only who or what has it"
        )
    # "Monthly revenue in 1995" is a breakdown as much as "revenue by month" (but "the average
    # monthly revenue" is one figure).
    periods = PERIOD_DIMENSIONS & set(breakdowns(question))
    breakdown = grouped_by(question) or (periods and not asks_one_figure(question))
    if breakdown and len(table.rows) == 1 and not (_TOP.search(question) or _BOTTOM.search(question)):
        problems.append("the question asks for a breakdown, but the query returned a single row")
    if len(table.rows) > 1 and asks_one_figure(question):
        problems.append(
            f"the question asks for one figure, but the query returned {len(table.rows)} rows; "
            "aggregate them (sum, count or avg) into one"
        )
    if _SHARE.search(question) and len(table.rows) == 1:
        whole = next(
            ((c, v) for c, v in zip(table.columns, table.rows[0], strict=True) if v in (100, 1)), None
        )
        if whole is not None and not isinstance(whole[1], bool):
            problems.append(
                f"the share is exactly {whole[1]} ({whole[0]}): the part and the whole count the same rows "
                "(the part's condition belongs in the numerator, not in WHERE)"
            )
    joint = joint_breakdown(question)
    if joint is not None:
        missing = [d for d in joint[1] if not _has_dimension(table, d)]
        if missing:
            problems.append(
                f"the question asks for a breakdown by {' and '.join(joint[1])}, but the result has no "
                f"{' or '.join(missing)} column"
            )
    return problems


_SHARE = re.compile(r"\b(?:percentage|percent|share|fraction|proportion|ratio)\b|%", re.I)
_ONE_FIGURE = re.compile(
    r"^\s*(?:how many|how much|what (?:is|was|were|are) (?:the |our )?(?:total|overall|average|mean|"
    r"number|sum|share|percentage|count|amount|quantity|value)|what (?:total|quantity|percentage|share|"
    r"fraction|proportion|amount|number))\b",
    re.I,
)
_SEVERAL = re.compile(
    r"\b(?:each|every|per|which|list|top|rank\w*|breakdown|split|and|or|versus|vs|compared?)\b", re.I
)


# "What percentage of line items went by RAIL": a part of a whole, unlike "the change in percent".
_PART_OF_WHOLE = re.compile(
    r"\b(?:percent(?:age)?|share|fraction|proportion)\s+of\b|\bwhat (?:percent(?:age)?|share|fraction|"
    r"proportion)\b",
    re.I,
)
_CHANGE = re.compile(r"\b(?:chang\w*|grow\w*|grew|increas\w*|decreas\w*|declin\w*|differ\w*|margin)\b", re.I)
_SHARE_COLUMN = re.compile(r"pct|percent|share|fraction|proportion|ratio|rate", re.I)


def _part_of_whole_problems(question: str, sql: str, table: Table, catalog: SchemaCatalog) -> list[str]:
    """A share of a whole lies between 0 and 100%, and its numerator and denominator count the
    same thing: ``sum(CASE WHEN ... THEN l_quantity END) * 100 / count(*)`` mixes units and rows."""
    if not _PART_OF_WHOLE.search(question) or _CHANGE.search(question):
        return []
    problems = []
    tree = parse(sql)
    divisions = list(tree.find_all(exp.Div)) if tree is not None else []
    # "Share of revenue from EUROPE" with r_name = 'EUROPE' in the WHERE divides Europe by Europe.
    where = tree.args.get("where") if isinstance(tree, exp.Select) else None
    if divisions and where is not None and where.find(exp.Subquery) is None:
        lowered, in_where = sql.lower(), where.sql(dialect="duckdb").lower()
        # Values of tables the query does not read ('urgent' of support tickets) are not its part.
        read = set(table_aliases(tree).values()) if isinstance(tree, exp.Select) else set()
        asked = [
            v
            for v, c in named_values(question, catalog).items()
            if any(h.split(".", 1)[0].lower() in read for h in [c, *catalog.holding(v)])
        ]
        named = [v for v in asked if f"'{v.lower()}'" in in_where]
        if (
            named
            and len(named) == len(asked)
            and all(lowered.count(f"'{v.lower()}'") == in_where.count(f"'{v.lower()}'") for v in named)
        ):
            problems.append(
                f"'{named[0]}' filters the whole query (WHERE), so the share's whole is only the part: "
                "select the part in the numerator (CASE WHEN or FILTER) and keep the whole unfiltered"
            )
    for div in divisions:
        top, bottom = div.this, div.expression
        if (rest := _complement(top, bottom)) is not None:
            problems.append(
                f"the share's whole leaves out its part ({rest}): divide by all of them, not by the rest"
            )
        parts, wholes = _conditioned_sums(top), _summed(bottom)
        if parts and wholes and not parts & wholes:
            problems.append(
                f"the share's part sums {sorted(parts)[0]} but its whole sums {sorted(wholes)[0]}: "
                "both must sum the same measure"
            )
        if _sums_a_column(top) and bottom.find(exp.Count) is not None and not _sums_a_column(bottom):
            problems.append(
                f"the share's numerator sums a column ({top.sql(dialect='duckdb')}) but its denominator "
                "counts rows: both must count, or both sum, the same thing"
            )
        elif _sums_a_column(bottom) and top.find(exp.Count) is not None and not _sums_a_column(top):
            problems.append(
                "the share's numerator counts rows but its denominator sums a column: both must count, "
                "or both sum, the same thing"
            )
    numeric = [c for c in table.columns if _is_numeric(table, c)]
    shares = [c for c in numeric if _SHARE_COLUMN.search(c)] or (numeric if len(numeric) == 1 else [])
    for column in shares:
        i = table.columns.index(column)
        outside = [
            row[i] for row in table.rows if isinstance(row[i], int | float) and not 0 <= row[i] <= 100.0001
        ]
        if outside:
            problems.append(f"a share of a whole lies between 0 and 100%, but {column} is {outside[0]}")
    return problems


def _conditions(node: exp.Expression, kind: type[exp.Expression]) -> set[str]:
    """``column op literal`` comparisons of one kind in ``node``, as ``column|literal`` keys."""
    found = set()
    for cmp in node.find_all(kind):
        column, value = cmp.this, cmp.expression
        if isinstance(value, exp.Column):
            column, value = value, column
        if isinstance(column, exp.Column) and isinstance(value, exp.Literal):
            found.add(f"{column.name.lower()}|{value.this.lower()}")
    return found


def _complement(top: exp.Expression, bottom: exp.Expression) -> str | None:
    """The condition a share's whole negates where its part asserts it ("mode = 'RAIL'" over
    "mode != 'RAIL'"): that whole is the rest, and the figure a ratio to it, not a share."""
    negated = _conditions(bottom, exp.NEQ) | {
        key for n in bottom.find_all(exp.Not) for key in _conditions(n, exp.EQ)
    }
    shared = sorted(_conditions(top, exp.EQ) & negated)
    if not shared:
        return None
    column, value = shared[0].split("|", 1)
    return f"{column} <> '{value}'"


def _one_row_average_problems(sql: str) -> list[str]:
    """``avg(n) FROM (SELECT count(*) AS n FROM orders WHERE ...)`` averages one value: the inner
    query must form the groups (per customer) the average runs over."""
    tree = parse(sql)
    problems = []
    for select in tree.find_all(exp.Select) if tree is not None else []:
        source = from_clause(select)
        inner = source.this if source is not None else None
        if not isinstance(inner, exp.Subquery) or not isinstance(inner.this, exp.Select):
            continue
        body = inner.this
        aggregates = any(p.find(exp.AggFunc) is not None for p in body.expressions)
        if (
            aggregates
            and body.args.get("group") is None
            and any(p.find(exp.Avg) is not None for p in select.expressions)
        ):
            problems.append(
                "the average runs over a subquery that aggregates to a single row (no GROUP BY): "
                "group the inner query by what the average is taken over"
            )
    return problems


def _conditioned_sums(node: exp.Expression) -> set[str]:
    """What a share's part sums under a condition: ``sum(CASE WHEN c THEN x END)`` or
    ``sum(x) FILTER (WHERE c)`` -> {x}."""
    out = set()
    for total in node.find_all(exp.Sum):
        if isinstance(total.parent, exp.Filter):
            out.add(total.this.sql(dialect="duckdb").lower())
        for case in total.this.find_all(exp.Case):
            for branch in case.args.get("ifs", []):
                value = branch.args.get("true")
                if value is not None and value.find(exp.Column) is not None:
                    out.add(value.sql(dialect="duckdb").lower())
    return out


def _summed(node: exp.Expression) -> set[str]:
    """What a share's whole sums unconditionally: ``sum(x)`` -> {x}."""
    return {
        total.this.sql(dialect="duckdb").lower()
        for total in node.find_all(exp.Sum)
        if not isinstance(total.parent, exp.Filter) and total.this.find(exp.Case) is None
    }


def _sums_a_column(node: exp.Expression) -> bool:
    """``sum(x)`` or ``sum(CASE WHEN ... THEN x END)`` over a column, not over a constant 1."""
    for total in node.find_all(exp.Sum):
        if total.this.find(exp.Column) is None:
            continue
        cases = list(total.this.find_all(exp.Case))
        if not cases:
            return True
        # CASE WHEN cond THEN 1 ELSE 0 counts; THEN l_quantity sums.
        if any(
            isinstance(branch, exp.If)
            and branch.args.get("true") is not None
            and branch.args["true"].find(exp.Column) is not None
            for case in cases
            for branch in case.args.get("ifs", [])
        ):
            return True
    return False


def _overall_problems(question: str, sql: str) -> list[str]:
    """ "Total revenue of 1995" grouped by order (and cut to the largest group) is not the total:
    a question with no breakdown, ranking or list wants its outer query ungrouped."""
    if (
        _asks_several(question)
        or _TOP.search(question)
        or _BOTTOM.search(question)
        or _COMPARES.search(question)
    ):
        return []
    tree = parse(sql)
    group = tree.args.get("group") if isinstance(tree, exp.Select) else None
    if group is None:
        return partitioned_figure_problems(tree) if isinstance(tree, exp.Select) else []
    # A key the WHERE fixes to one value ("GROUP BY r_name" with r_name = 'ASIA') makes one group.
    where = tree.args.get("where")
    fixed = {
        side.name.lower()
        for eq in (where.find_all(exp.EQ) if where is not None else [])
        for side, other in ((eq.this, eq.expression), (eq.expression, eq.this))
        if isinstance(side, exp.Column) and isinstance(other, exp.Literal)
    }
    keys = [e for e in group.expressions if not (isinstance(e, exp.Column) and e.name.lower() in fixed)]
    if not keys:
        return []
    written = ", ".join(e.sql(dialect="duckdb") for e in keys)
    return [f"the question asks for one overall figure, but the query groups by {written}"]


def asks_one_figure(question: str) -> bool:
    """ "How many ...", "What was the total ...", with no breakdown, list or ranking asked for."""
    return bool(_ONE_FIGURE.search(question)) and not _asks_several(question)


def _asks_several(question: str) -> bool:
    """A breakdown, a list, a ranking or a comparison: the answer has several rows."""
    return bool(
        _SEVERAL.search(_without_averaged_entity(question)) or grouped_by(question) or breakdowns(question)
    )


_PERIOD_VALUE = {
    "month": re.compile(r"^\d{4}-\d{2}(?:-01)?(?:[ T].*)?$"),
    "quarter": re.compile(r"^(?:\d{4}-?Q[1-4]|Q[1-4](?: \d{4})?|[1-4])$", re.I),
}


_WHICH_PERIOD = re.compile(r"\b(?:which|what)\s+(year|month|quarter)\b", re.I)


def _day_label_problems(question: str, table: Table) -> list[str]:
    """ "In which year was the total order value highest?" answered per order date: the labels
    are single days, not the year (or month, or quarter) asked for."""
    asked = {m.group(1).lower() for m in _WHICH_PERIOD.finditer(question)}
    asked |= {"year", "month", "quarter"} & set(breakdowns(question))
    problems = []
    for dimension in sorted(asked):
        firsts = {"year": {(1, 1)}, "month": {(m, 1) for m in range(1, 13)}}.get(
            dimension, {(m, 1) for m in (1, 4, 7, 10)}
        )
        for column in table.columns:
            days = [_DAY_TEXT.match(str(v)) for v in table.column(column) if v is not None]
            if not days or not all(days):
                continue
            # A period's first day stands for the period (date_trunc); any other day is a day.
            if any((int(d.group(2)), int(d.group(3))) not in firsts for d in days if d):
                example = str(table.column(column)[0])[:10]
                problems.append(
                    f"the question asks for a {dimension}, but {column} holds single days ({example}); "
                    f"group by {dimension}(the date column)"
                )
    return problems


def _has_dimension(table: Table, dimension: str) -> bool:
    """A column named for ``dimension``, or (for a month or quarter) one whose values are periods."""
    if any(dimension in c.lower() for c in table.columns):
        return True
    shape = _PERIOD_VALUE.get(dimension)
    return shape is not None and any(
        all(v is not None and shape.match(str(v)) for v in table.column(c)) for c in table.columns
    )
