"""Notes for one question, placed right after it in the SQL prompt (schema linking).

A small coder model reads the whole schema and glossary once (KV-cached), but near the end of a
long prompt it follows the words of the question: "revenue" pulls it to ``revenue_budget``,
"by region" to a single top row. Repeating the few definitions this question touches, naming the
look-alike columns that are something else, and stating the shape of the answer, next to the
question, is what keeps it on the defined measure and the asked-for shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

from atomwork.agents.answer_checks import (
    _AVG,
    _BOTTOM,
    _COUNT,
    _DURATION,
    _MEDIAN,
    _TOP,
    AVERAGE_COUNT_OF,
    PERIOD_DIMENSIONS,
    asked_count,
    asks_one_figure,
    asks_part_of_year,
    both_years,
    compares_years,
    dated_words,
    grouped_by,
    moment_only_years,
    named_columns,
    named_days,
    named_periods,
    named_values,
    question_events,
    question_years,
    spelled_as_data,
)
from atomwork.agents.date_spans import points_in_time, year_spans
from atomwork.agents.period_average import asked_period
from atomwork.agents.sql_structure import count_threshold
from atomwork.goal import breakdowns, joint_breakdown
from atomwork.tools.glossary import Definition, Glossary, names_column
from atomwork.tools.schema import Column, SchemaCatalog

# "Average number of orders per customer", "on average, how many line items does an order have":
# a count per entity, averaged; not the average of a column, nor one overall count.
_HOW_MANY_EACH = re.compile(
    r"\bhow many ([a-z]+(?: [a-z]+)?) (?:does|do|did) (?:an? |each |every )?([a-z]+) "
    r"(?:have|has|contain|include|place|get|receive)",
    re.I,
)
_TIMED = re.compile(
    r"\b(?:1[89]\d\d|20\d\d|q[1-4]|h[12]|ytd|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|"
    r"july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b|"
    r"\b(?:year|quarter|month|week|day|date|dated|daily|annual|since|before|after|between|during|until|"
    r"recent|last|past|previous|period|today)",
    re.I,
)
_STOP = {"the", "for", "its", "and", "per", "with", "from", "over", "period", "date", "rows", "item"}
_PHRASE_SPLIT = re.compile(r",|;|\(|\)|\bor\b|\balso\b|\band\b", re.I)


def _stems(text: str) -> set[str]:
    """The words of ``text`` less their endings: "shipped" and "shipping" are "ship"."""
    stems = set()
    for word in re.findall(r"[a-z]{3,}", text.lower()):
        if word in _STOP:
            continue
        stem = re.sub(r"ies$", "y", word)
        stem = re.sub(r"(?<=[sxz])es$|(?<=[cs]h)es$|(?<!s)s$|ing$|ed$", "", stem)
        stem = stem if len(stem) >= 3 else word
        stems.add(stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiou" else stem)
    return stems


def _uses(asked: set[str], phrase: set[str]) -> bool:
    """Whether the question's stems take in every stem of ``phrase``, one the start of the other
    ("ship" and "shipment"; but "departure" is not "department")."""
    return bool(phrase) and all(any(_same_root(a, p) for a in asked) for p in phrase)


def _same_root(one: str, other: str) -> bool:
    short, long = sorted((one, other), key=len)
    return short == long or (len(short) >= 4 and long.startswith(short))


# "Region or nation of a customer": whose region a route reaches.
_WHOSE = re.compile(r" of an? (\w+)")


def relevant_definitions(question: str, glossary: Glossary) -> list[Definition]:
    """The definitions one of whose term's phrases the question uses ("revenue", "late shipment",
    "region"), plus the measures it names."""
    asked = _stems(re.sub(r"\bhow many\b", "number of", glossary.without_values(question), flags=re.I))
    measures = glossary.measures_named(question)

    def named(definition: Definition) -> bool:
        # "(and of its orders and revenue)" qualifies the term; it does not name it.
        term = re.sub(r"\(and [^)]*\)", " ", definition.term)
        phrases = [_stems(p) for p in _PHRASE_SPLIT.split(term)]
        # "nation of a customer" is named by "nation" ("of a" only says whose); "number of orders"
        # needs all its words.
        phrases += [_stems(p.split(" of a")[0]) for p in _PHRASE_SPLIT.split(term) if " of a" in p]
        return any(_uses(asked, p) for p in phrases)

    # "How many employees did we have at the end of 1997": a count at a moment is the
    # definition "employees on staff at a date D", though the question says no "staff".
    moment = bool(points_in_time(question))

    def at_moment(definition: Definition) -> bool:
        entity = definition.term.split()[0]
        return moment and " at a date " in definition.term and _uses(asked, _stems(entity))

    chosen = [d for d in glossary.definitions if d in measures or named(d) or at_moment(d)]
    # Which date dates a period matters only when the question has one; otherwise its join
    # ("lineitem JOIN orders") only pulls the query toward a table it does not need.
    if not _TIMED.search(question):
        chosen = [d for d in chosen if not d.term.startswith("a period")]
    # "Region or nation of a customer" and "... of a supplier": the entity the question names
    # decides which route applies; naming neither keeps both, the customer's first.
    entities = [(d, _WHOSE.search(d.term)) for d in chosen]
    mentioned = {m.group(1) for _, m in entities if m and re.search(rf"\b{m.group(1)}", question, re.I)}
    if not mentioned:
        return chosen
    return [d for d, m in entities if m is None or m.group(1) in mentioned]


def look_alikes(question: str, catalog: SchemaCatalog, glossary: Glossary) -> list[str]:
    """Columns named like a defined measure the question asks for, that are not that measure
    (``budgets.revenue_budget`` when the question says "revenue")."""
    return [
        f"{column} is not {definition.words[0]}"
        for column, definition in glossary.look_alikes(question, catalog)
    ]


def answer_shape(question: str, catalog: SchemaCatalog | None = None) -> str | None:
    grouped = grouped_by(question)
    ranked = _TOP.search(question) or _BOTTOM.search(question)
    if ranked:
        order = "descending" if _TOP.search(question) else "ascending"
        limit = asked_count(question) or 1
        return f"the name(s) with the measure, ordered {order}, LIMIT {limit}"
    joint = joint_breakdown(question)
    if joint is not None:
        return f"one row per {' and '.join(joint[1])} (a column for each), no LIMIT"
    years = compares_years(question)
    if years:
        per = f"one row per {grouped.group(0).split()[-1].rstrip('s')}" if grouped else "one row"
        return f"{per}, with a column for each of {', '.join(years)}, no LIMIT"
    if grouped:
        return f"one row per {grouped.group(0).split()[-1].rstrip('s')}, no LIMIT"
    # "Monthly revenue in 1995": a row per month, though no "by" or "per" says so.
    periods = [d for d in breakdowns(question) if d in PERIOD_DIMENSIONS]
    if periods and not asks_one_figure(question):
        return f"one row per {periods[0]}, no LIMIT"
    per_entity = AVERAGE_COUNT_OF.search(question) or (
        _HOW_MANY_EACH.search(question) if re.search(r"\baverage\b", question, re.I) else None
    )
    if per_entity:
        counted, entity = per_entity.groups()
        held = _count_column(catalog, entity, counted) if catalog is not None else None
        if held is not None:
            # campaigns.leads already holds each campaign's count of leads.
            return f"one row: avg({held.rpartition('.')[2]}) over the {held.rpartition('.')[0]} rows"
        return (
            f"one row: count the {counted} of each {entity} in a subquery grouped by the {entity}'s key, "
            "then avg() of those counts"
        )
    threshold = count_threshold(question)
    if threshold:
        return (
            f"one row: in a subquery, group the {threshold.counted} by the key of their "
            f"{threshold.entity.rstrip('s')} with HAVING count(*) {threshold.operator} {threshold.number}; "
            "then count the subquery's rows"
        )
    period = asked_period(question)
    if period is not None:
        return f"one row: total each {period} in a subquery grouped by the {period}, then avg() of the totals"
    if _MEDIAN.search(question):
        return "one row with median(...), not avg()"
    if _AVG.search(question):
        return "one row with the average"
    if _COUNT.search(question):
        return "one row with the count"
    if asks_one_figure(question):
        # "Total revenue from customers in CHINA" is one sum over them all, not one per customer.
        return "one row with the overall figure, no GROUP BY"
    return None


def _count_column(catalog: SchemaCatalog, entity: str, counted: str) -> str | None:
    """``table.column``: the numeric column of the ``entity`` table named for ``counted``
    ("leads" of campaigns), which holds each row's count."""
    stem = entity.lower().rstrip("s")[:5]
    word = counted.split()[-1].lower()
    for table in catalog.tables:
        if not table.name.lower().startswith(stem):
            continue
        for column in table.columns:
            if column.numeric and column.name.lower() in (word, word.rstrip("s"), f"{word}s"):
                return f"{table.name}.{column.name}"
    return None


_DAY_BOUND = re.compile(
    r"\b(before|prior to|earlier than|after|later than|since|from|starting|as of|on or after|until|till|"
    r"through|thru|by|up to|on or before)\s+(?:the\s+)?$",
    re.I,
)
_DAY_OPERATOR = {"before": "<", "prior to": "<", "earlier than": "<", "after": ">", "later than": ">"}
_DAY_OPERATOR |= dict.fromkeys(("since", "from", "starting", "as of", "on or after"), ">=")
_DAY_OPERATOR |= dict.fromkeys(("until", "till", "through", "thru", "by", "up to", "on or before"), "<=")


def day_notes(question: str, dated: str) -> list[str]:
    """Days the question writes out, as bounds on ``dated``: "between March 1, 1995 and June 30,
    1995" takes in both days, "after 1997-06-30" starts the day after, "on 1996-01-01" is one day."""
    days = named_days(question)
    if not days:
        return []
    text = question.lower()
    if len(days) == 2 and re.search(r"\b(?:between|from)\b", text):
        first, last = days
        after = last + timedelta(days=1)
        return [
            f"from {first} to {last}, both included: {dated} >= DATE '{first}' AND {dated} < DATE '{after}'"
        ]
    notes = []
    for day in days:
        # The words just before the day ("placed after 1997-06-30") say which side it bounds.
        written = [
            day.isoformat(),
            f"{day:%B} {day.day}",
            f"{day.day} {day:%B}",
            f"{day.day}st",
            f"{day.day}nd",
        ]
        at = min((i for w in written if (i := text.find(w.lower())) >= 0), default=-1)
        bound = _DAY_BOUND.search(text[:at]) if at >= 0 else None
        operator = _DAY_OPERATOR[bound.group(1).lower()] if bound else "="
        notes.append(f"{bound.group(1) if bound else 'on'} {day}: {dated} {operator} DATE '{day}'")
    return notes


def question_notes(question: str, catalog: SchemaCatalog, glossary: Glossary) -> list[str]:
    points = points_in_time(question)
    notes = []
    for d in _routes_that_apply(question, catalog, relevant_definitions(question, glossary)):
        notes.append(f"{d.term}: {d.meaning}")
        # "At a date D" with the question's moment filled in: the model copies it as written.
        if " at a date " in d.term:
            who = d.term.split(" at a date ")[0]
            for p in points:
                filled = re.sub(r"\bD\b", f"DATE '{p.day}'", d.meaning)
                notes.append(f"{who} at {p.phrase}: {filled}")
    notes.extend(look_alikes(question, catalog, glossary))
    # Where the values the question names live: "won" is stage 'Closed Won', "ASIA" is r_name.
    # "The Support department's spending": 'Support' is in expenses.department as well. A value
    # in many tables (a region) is left to the join notes: listing them all only adds noise.
    measured = {r.split(".", 1)[0] for d in glossary.measures_named(question) for r in d.needs}
    for value, column in named_values(question, catalog).items():
        holders = [column, *(c for c in catalog.holding(value) if c != column)]
        # "Social campaigns in the EUROPE region": the campaigns' region, of all that hold 'EUROPE'.
        own = [h for h in holders if _names_table(question, h.split(".", 1)[0])]
        # ...where "the EUROPE region" names the region table only as the kind of value it is.
        own = [h for h in own if not _follows(question, value, h.split(".", 1)[0])] or own
        if len(holders) > 3:
            holders = own[:1] or holders[:1]
        if not any(_surely_named(question, value, h) for h in holders):
            continue
        # "The Support department's spending on Travel": expenses.department, where the measure is.
        holders = [h for h in holders if h.split(".", 1)[0] in measured] or holders
        notes.append(f"'{value}' is a value of {' and '.join(holders)}")
    spans = year_spans(question)
    moments = moment_only_years(question)
    years = [
        y for y in question_years(question) if not any(y in span.years for span in spans) and y not in moments
    ]
    # Every period note below bounds this column (or says where one goes when none is known).
    dated = date_column(question, catalog, glossary) or "the date column"
    # "Before 1993", "between 1993 and 1995": the span's bounds, not each year's.
    notes.extend(f"{span.phrase}: {span.bounds(dated)}" for span in spans)
    notes.extend(
        f"{p.phrase}: the single day {p.day}, what held on that day; not everything dated during the period"
        for p in points
    )
    both = both_years(question)
    if both is not None:
        notes.append(
            f"in both {both[0]} and {both[1]}: the keys with rows in {both[0]} INTERSECT the keys with rows "
            f"in {both[1]}, then count them (not rows of either year)"
        )
    if years and not asks_part_of_year(question):
        # Years asked "both" are each kept on its own side of the INTERSECT, not OR-ed together.
        whole = ("; " if both else " or ").join(
            f"{dated} >= DATE '{y}-01-01' AND {dated} < DATE '{int(y) + 1}-01-01'" for y in years
        )
        notes.append(f"the whole year: {whole}")
    # "Days after the order date were items shipped": the later event's date minus the earlier's.
    between = duration_columns(question, catalog)
    if len(between) >= 2:
        notes.append(f"days from {between[0]} to {between[1]}: {between[1]} - {between[0]}")
    # "March 1996", "Q3 1993": both bounds written out, as for a year.
    for phrase, start, end in named_periods(question):
        if any(phrase in p.phrase for p in points):
            continue  # "the end of June 1998" is a day, noted above
        notes.append(f"{phrase}: {dated} >= DATE '{start}' AND {dated} < DATE '{end}'")
    notes.extend(day_notes(question, dated))
    # DuckDB has no quarter format code; a small model reaches for one ("DATE_TRUNC('Q', d)").
    buckets = {
        "month": "strftime({d}, '%Y-%m') AS month",
        "quarter": "year({d}) || '-Q' || quarter({d}) AS quarter",
    }
    for dimension in breakdowns(question):
        if dimension in buckets:
            notes.append(f"the {dimension} column: {buckets[dimension].format(d=dated)}")
    compared = compares_years(question)
    if compared:
        # A defined measure is spelled out; otherwise the model fills in the one it computes.
        measure = next((d for d in glossary.measures_named(question) if d.aggregate), None)
        expression = measure.aggregate if measure is not None else "<measure>"
        alias = measure.aliases[0] if measure is not None and measure.aliases else "<measure>"
        each = ", ".join(
            f"{expression} FILTER (WHERE {dated} >= DATE '{y}-01-01' AND "
            f"{dated} < DATE '{int(y) + 1}-01-01') AS {alias}_{y}"
            for y in compared
        )
        notes.append(f"a column per year: {each}")
    clause = from_clause(question, catalog, glossary)
    if clause:
        notes.append(f"join the tables this way: {clause}")
    shape = answer_shape(question, catalog)
    if shape:
        notes.append(f"answer shape: {shape}")
    return notes


def duration_columns(question: str, catalog: SchemaCatalog) -> list[str]:
    """The date columns a time-between question measures, in the order it names their events
    ("days between ordering and shipping" -> o_orderdate, l_shipdate)."""
    if not _DURATION.search(question):
        return []
    found: dict[str, int] = {}
    words = [(m.start(), m.group(0).lower()) for m in re.finditer(r"[A-Za-z]{4,}", question)]
    for stem, columns in dated_words(catalog).items():
        where = next((i for i, w in words if w.startswith(stem[:4])), None)
        if where is not None and len(columns) == 1:
            found.setdefault(next(iter(columns)), where)
    return sorted(found, key=found.__getitem__)


def _routes_that_apply(
    question: str, catalog: SchemaCatalog, definitions: list[Definition]
) -> list[Definition]:
    """Less the routes to a region through customers or suppliers ("region or nation of a
    customer") where the question names neither, but names a table with a region of its own
    ("social campaigns in the EUROPE region": campaigns.region)."""
    whose = [
        (d, m.group(1)) for d in definitions if d.term.startswith("region") and (m := _WHOSE.search(d.term))
    ]
    if not whose or any(re.search(rf"\b{entity}", question, re.I) for _, entity in whose):
        return definitions
    routes = [d for d, _ in whose]
    own_region = any(
        _names_table(question, t.name) and t.column("region") is not None for t in catalog.tables
    )
    # "Actual revenue against the budget per region": revenue's own tables have no region.
    measured = {ref.split(".", 1)[0] for d in definitions if d.aggregate for ref in d.needs}
    routed = any((t := catalog.table(name)) is not None and t.column("region") is None for name in measured)
    return [d for d in definitions if d not in routes] if own_region and not routed else definitions


def _follows(question: str, value: str, table: str) -> bool:
    """Whether ``table`` is named right after ``value`` ("the EUROPE region")."""
    return re.search(rf"\b{re.escape(value)}\s+{re.escape(table.rstrip('s'))}", question, re.I) is not None


def _names_table(question: str, table: str) -> bool:
    """Whether ``question`` names ``table`` ("campaigns", "the campaign", "tickets" for support_tickets)."""
    stem = table.lower().split("_")[-1].rstrip("s")
    return len(stem) >= 4 and re.search(rf"\b{re.escape(stem)}", question, re.I) is not None


def _surely_named(question: str, value: str, column: str) -> bool:
    """Whether the question means this column's value, not a word that happens to match it
    ("marketing campaigns" names no department): written in capitals, an outcome ("won"), or
    with its column or table named too ("the Sales department")."""
    if (value.isupper() and value in question) or spelled_as_data(question, value):
        return True
    outcome = any(w in value.lower().split() for w in ("won", "lost")) and bool(
        re.search(r"\b(?:won|win|wins|winning|lost|lose|loses|losing)\b", question.lower())
    )
    return outcome or names_column(question, column)


def date_column(question: str, catalog: SchemaCatalog, glossary: Glossary) -> str | None:
    """The date column a period in the question filters: the event's own column ("shipped" ->
    l_shipdate), else a date column it names ("by ship date"), else the one the glossary dates the
    measure by ("revenue" -> o_orderdate)."""
    for event in _nearest_events(question):
        for table in catalog.tables:
            for col in table.columns:
                if _dates_event(col, [event]):
                    return col.name
    # "By ship date", "with a receipt date in 1995": the date column the question names.
    named = {c for columns in named_columns(question, catalog) for c in columns}
    for table in catalog.tables:
        for col in table.columns:
            if col.is_date and col.name.lower() in named:
                return col.name
    defined = next(_definition_dates(relevant_definitions(question, glossary), catalog), None)
    if defined is not None:
        return defined[1].name
    # Else the measure's table's only date column ("expenses" -> expenses.month).
    for definition in glossary.measures_named(question):
        tables = {r.split(".")[0] for r in definition.needs if "." in r}
        dated = [c.name for t in catalog.tables if t.name in tables for c in t.columns if c.is_date]
        if len(dated) == 1:
            return dated[0]
    return None


def _nearest_events(question: str) -> list[str]:
    """The question's events, the one written nearest before its first year first: "orders placed
    in Q3 1993 that had an item received late" dates the quarter by the order, not the receipt."""
    events = question_events(question)
    year = re.search(r"\b(?:1[89]|20)\d\d\b", question)
    if year is None or len(events) < 2:
        return events
    before = [
        root
        for word in re.finditer(r"[A-Za-z]+", question[: year.start()])
        for root in question_events(word.group(0))
        if root in events
    ]
    return list(dict.fromkeys([*reversed(before), *events]))


def _dates_event(col: Column, events: list[str]) -> bool:
    """Whether ``col`` is the date of one of the question's events (``l_shipdate`` for "ship")."""
    return col.is_date and any(len(e) >= 4 and e[:4] in col.name.lower() for e in events)


def _definition_dates(definitions: list[Definition], catalog: SchemaCatalog) -> Iterator[tuple[str, Column]]:
    """The date columns the definitions use, with their tables, in glossary order."""
    for definition in definitions:
        for ref in definition.needs:
            table, _, column = ref.partition(".")
            info = catalog.table(table)
            col = info.column(column) if info is not None else None
            if col is not None and col.is_date:
                yield table, col


def join_path(
    catalog: SchemaCatalog, sources: set[str], goal: str, preferred: list[str]
) -> list[tuple[str, str]] | None:
    """The shortest chain of join keys from any of ``sources`` to table ``goal``; among equally
    short chains, the one through the ``preferred`` tables (those the glossary names) first."""
    edges: dict[str, list[tuple[str, str, str]]] = {}
    for key in catalog.joins:
        left_table, right_table = key.left.split(".")[0], key.right.split(".")[0]
        edges.setdefault(left_table, []).append((right_table, key.left, key.right))
        edges.setdefault(right_table, []).append((left_table, key.right, key.left))

    def rank(table: str) -> int:
        return preferred.index(table) if table in preferred else len(preferred)

    def cost(path: list[tuple[str, str]]) -> int:
        return sum(rank(there.split(".")[0]) for _, there in path)

    seen = set(sources)
    frontier: list[tuple[str, list[tuple[str, str]]]] = [(t, []) for t in sorted(sources, key=rank)]
    while frontier:
        done = [path for table, path in frontier if table == goal]
        if done:
            return min(done, key=cost)
        # Expand the cheapest chains first, so a shared table is reached through preferred ones.
        frontier.sort(key=lambda item: cost(item[1]))
        nxt = []
        for table, path in frontier:
            for other, here, there in sorted(edges.get(table, []), key=lambda e: rank(e[0])):
                if other not in seen:
                    seen.add(other)
                    nxt.append((other, [*path, (here, there)]))
        frontier = nxt
    return None


def _tables_with(catalog: SchemaCatalog, word: str) -> list[str]:
    """Tables named ``word`` or holding a column whose name contains it ("segment" -> customer)."""
    return [
        t.name
        for t in catalog.tables
        if t.name.lower().rstrip("s") == word or any(word in c.name.lower() for c in t.columns)
    ]


def from_clause(question: str, catalog: SchemaCatalog, glossary: Glossary) -> str | None:
    """A ready FROM clause joining the measure's table to the tables of the question's period,
    breakdown and named entities ("revenue by region" on TPC-H: lineitem, orders, customer,
    nation, region). Small models name the right columns but drop joins; the keys come from
    the schema."""
    measures = glossary.measures_named(question)
    if not measures:
        return None
    tables_of = [r.split(".")[0] for r in measures[0].needs if "." in r]
    if not tables_of or catalog.table(tables_of[0]) is None:
        return None
    start = tables_of[0]
    definitions = relevant_definitions(question, glossary)
    preferred = list(dict.fromkeys(r.split(".")[0] for d in definitions for r in d.needs if "." in r))
    wanted: list[str] = []
    start_info = catalog.table(start)
    assert start_info is not None
    # "shipped in 1995" dates the measure's own rows (l_shipdate): no other table's date applies.
    events = question_events(question)
    own_dated = any(_dates_event(col, events) for col in start_info.columns)
    if question_years(question) and not own_dated:
        # The period's own date column ("a period for orders or revenue" -> orders).
        wanted.extend(table for table, _ in _definition_dates(definitions, catalog))
    grouped = grouped_by(question)
    via: dict[str, str] = {}
    if grouped:
        phrase = [w.lower().rstrip("s") for w in grouped.group(0).split()[1:]]
        dimension = phrase[-1]
        # "by supplier nation": the nation is reached through the supplier, not the customer.
        qualifier = next((w for w in phrase[:-1] if catalog.table(w) is not None), None)
        if qualifier is not None and catalog.table(dimension) is not None:
            wanted.append(qualifier)
            via[dimension] = qualifier
        if qualifier is None:
            # The first definition that names the dimension decides the route ("region or nation
            # of a customer" comes before "... of a supplier").
            route = next((d for d in definitions if dimension in d.term.lower()), None)
            if route is not None:
                wanted.extend(r.split(".")[0] for r in route.needs if "." in r)
        named = [t.name for t in catalog.tables if t.name.lower().rstrip("s") == dimension]
        holders = named or _tables_with(catalog, dimension)
        if holders and start not in holders:
            paths = [(join_path(catalog, {start}, h, preferred), h) for h in holders]
            reachable = [(len(p), h) for p, h in paths if p is not None]
            if reachable:
                wanted.append(min(reachable)[1])
    # Tables the question names ("customers"), joined after the routes above are fixed.
    words = {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z]{4,}", question)}
    wanted.extend(t.name for t in catalog.tables if t.name.lower().rstrip("s") in words)
    joined = {start}
    clause = f"FROM {start}"
    for table in dict.fromkeys(wanted):
        if table in joined:
            continue
        path = join_path(catalog, {via[table]} if table in via else joined, table, preferred)
        if path is None:
            return None
        for here, there in path:
            other = there.split(".")[0]
            if other not in joined:
                joined.add(other)
                clause += f" JOIN {other} ON {here.split('.', 1)[1]} = {there.split('.', 1)[1]}"
    return clause if len(joined) > 1 else None
