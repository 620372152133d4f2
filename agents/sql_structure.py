"""Checks that read a query's parse tree against the schema, for mistakes that run without error
and return plausible figures:

- a text value written in another case than the data's ("'Germany'" where the column holds
  'GERMANY'): unambiguous, so it is rewritten (:func:`value_case_repair`); a value the column
  never holds is a problem (:func:`unknown_value_problems`);
- a measure of a table summed or averaged over a join with a table that refers to it
  (``avg(c_acctbal) FROM orders JOIN customer``): every customer counts once per order
  (:func:`fan_out_problems`);
  Where the repeating table is joined only to be joined (none of its columns used elsewhere, and
  the question does not name it), the join is dropped (:func:`dangling_join_repair`);
- "how many customers" counted over rows of another table (:func:`counted_table_problems`);
- two keys of different things set equal, ``r_regionkey = s_nationkey`` (:func:`key_mismatch_problems`);
- a window aggregate that repeats a breakdown's rows (:func:`window_repeat_problems`);
- a top-N answer whose last row ties with the next ones (:func:`ranking` finds them; the
  analyst shows them all rather than one picked by chance);
- "how many conversions" written ``count(conversions)`` over a numeric column: the rows that have
  one, not their sum (:func:`count_to_sum_repair`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import sqlglot
from pydantic import BaseModel
from sqlglot import exp
from sqlglot.errors import SqlglotError

from atomwork.table import Table
from atomwork.tools.schema import Column, SchemaCatalog

__all__ = [
    "CountThreshold",
    "Ranking",
    "column_table",
    "conjuncts",
    "count_threshold",
    "count_to_sum_repair",
    "counted_amount_problems",
    "counted_table",
    "counted_table_problems",
    "dangling_join_repair",
    "fan_out_problems",
    "filtered_values",
    "from_clause",
    "inner_null_problems",
    "key_mismatch_problems",
    "open_year_problems",
    "own",
    "parse",
    "partitioned_figure_problems",
    "ranking",
    "reads",
    "render",
    "summed_tables",
    "table_aliases",
    "text_date_problems",
    "text_date_repair",
    "unfiltered_overall_repair",
    "ungrouped_having_problems",
    "unknown_value_problems",
    "unlinked_join_problems",
    "value_case_repair",
    "window_repeat_problems",
]


def parse(sql: str) -> exp.Expr | None:
    try:
        return sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError:
        return None


_CAST_DATE = re.compile(r"CAST\('(\d{4}-\d{2}-\d{2})' AS DATE\)")


def render(tree: exp.Expr) -> str:
    """DuckDB SQL of a rewritten tree, its date literals written back as ``DATE '...'`` (sqlglot
    writes casts), the form the answer checks read."""
    return _CAST_DATE.sub(r"DATE '\1'", tree.sql(dialect="duckdb"))


def own(select: exp.Select, node: exp.Expr) -> bool:
    """Whether ``node`` belongs to ``select`` itself, not to a subquery inside it."""
    return node.find_ancestor(exp.Select) is select


def table_aliases(select: exp.Select) -> dict[str, str]:
    """The query's own tables: the name it writes for each (alias or name) -> the table's name."""
    return {t.alias_or_name.lower(): t.name.lower() for t in select.find_all(exp.Table) if own(select, t)}


def from_clause(select: exp.Select) -> exp.From | None:
    """The select's FROM (its argument was renamed ``from_`` in sqlglot 28)."""
    return select.args.get("from_") or select.args.get("from")


def _counting_columns(catalog: SchemaCatalog, table: str) -> set[str]:
    """Columns whose distinct values count ``table``'s rows: its own, and the keys pointing at it."""
    info = catalog.table(table)
    # l_orderkey is lineitem's own column, but its distinct values count orders, not line items.
    foreign = {
        j.left.split(".", 1)[1].lower()
        for j in catalog.joins
        if j.left.split(".", 1)[0].lower() == table.lower()
        and j.right.split(".", 1)[0].lower() != table.lower()
    }
    mine = {c.name.lower() for c in info.columns} - foreign if info is not None else set()
    keys = {
        j.left.split(".", 1)[1].lower()
        for j in catalog.joins
        if j.right.split(".", 1)[0].lower() == table.lower()
    }
    return mine | keys


def column_table(select: exp.Select, column: exp.Column, catalog: SchemaCatalog) -> str | None:
    """The catalog table ``column`` reads in ``select``: by its qualifier, or the one table of
    the select that has a column of that name."""
    aliases = table_aliases(select)
    name = column.name.lower()
    if column.table:
        table = aliases.get(column.table.lower())
        info = catalog.table(table) if table else None
        return info.name if info is not None and info.column(name) is not None else None
    owners = [
        info.name
        for t in set(aliases.values())
        if (info := catalog.table(t)) and info.column(name) is not None
    ]
    return owners[0] if len(owners) == 1 else None


def _catalog_column(select: exp.Select, column: exp.Column, catalog: SchemaCatalog) -> Column | None:
    """The catalog's entry for the column ``column`` reads in ``select`` (see :func:`column_table`)."""
    table = column_table(select, column, catalog)
    info = catalog.table(table) if table else None
    return info.column(column.name) if info is not None else None


def _value_comparisons(
    tree: exp.Expr, catalog: SchemaCatalog
) -> Iterator[tuple[exp.Literal, str, list[str]]]:
    """(literal node, ``table.column``, the column's known values) for every ``column = 'text'``,
    ``<>`` and ``IN ('a', 'b')`` on a categorical column."""
    for select in tree.find_all(exp.Select):
        for node in select.find_all(exp.EQ, exp.NEQ, exp.In):
            if not own(select, node):
                continue
            column = node.this if isinstance(node.this, exp.Column) else node.expression
            if not isinstance(column, exp.Column):
                continue  # lower(col) = 'x' and the like already handle case
            literals = (
                node.expressions if isinstance(node, exp.In) else [n for n in (node.this, node.expression)]
            )
            table = column_table(select, column, catalog)
            col = _catalog_column(select, column, catalog)
            if col is None or not (values := col.values or col.known_values):
                continue
            for literal in literals:
                if isinstance(literal, exp.Literal) and literal.is_string:
                    yield literal, f"{table}.{col.name}", values


def _folded(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text.strip().lower())


def value_case_repair(sql: str, catalog: SchemaCatalog) -> tuple[str, list[str]] | None:
    """The query with every text value the data holds in another spelling ("'Germany'",
    "'REG_AIR'") rewritten as the data writes it ('GERMANY', 'REG AIR'), and the changes;
    None when nothing needed it. Only a value with exactly one such match is rewritten."""
    tree = parse(sql)
    if tree is None:
        return None
    changes = []
    for literal, column, values in _value_comparisons(tree, catalog):
        written = literal.this
        if written in values:
            continue
        matches = [v for v in values if _folded(v) == _folded(written)]
        if len(matches) == 1:
            literal.set("this", matches[0])
            changes.append(f"'{written}' is written '{matches[0]}' in {column}")
    if not changes:
        return None
    return render(tree), list(dict.fromkeys(changes))


def filtered_values(sql: str, catalog: SchemaCatalog) -> list[tuple[str, str]]:
    """(value, ``table.column``) for every value of a categorical column the query keeps rows by
    (``= 'AMERICA'``, ``IN (...)``; not ``<>`` or ``NOT IN``, which keep the others)."""
    tree = parse(sql)
    found = []
    for literal, column, values in _value_comparisons(tree, catalog) if tree is not None else []:
        node = literal.parent
        negated = isinstance(node, exp.NEQ) or (node is not None and isinstance(node.parent, exp.Not))
        if literal.this in values and not negated:
            found.append((literal.this, column))
    return list(dict.fromkeys(found))


def _values_containing(written: str, values: list[str]) -> list[str]:
    """The values holding ``written`` as whole words ('BRASS' in 'LARGE BRUSHED BRASS')."""
    folded = _folded(written)
    if not folded or any(_folded(v) == folded for v in values):
        return []
    word = re.compile(rf"(?<![a-z0-9]){re.escape(folded)}(?![a-z0-9])")
    return [v for v in values if word.search(_folded(v))]


def unknown_value_problems(sql: str, catalog: SchemaCatalog) -> list[str]:
    """Text values compared with a column of known values that holds no such value."""
    tree = parse(sql)
    if tree is None:
        return []
    problems = []
    for literal, column, values in _value_comparisons(tree, catalog):
        written = literal.this
        if written in values:
            continue
        # "Parts made of BRASS" is a word of p_type's values ('LARGE BRUSHED BRASS'), not one of them.
        within = _values_containing(written, values)
        if within:
            spelled = re.search(re.escape(written), within[0], re.I)
            pattern = spelled.group(0) if spelled else written
            shown = ", ".join(f"'{v}'" for v in within[:5]) + (", ..." if len(within) > 5 else "")
            problems.append(
                f"{column} never holds '{written}' as a whole value; it is part of {len(within)} values "
                f"such as {shown} (match them with {column.split('.')[-1]} LIKE '%{pattern}%')"
            )
            continue
        shown = ", ".join(f"'{v}'" for v in values[:12]) + (", ..." if len(values) > 12 else "")
        problems.append(f"{column} never holds '{written}'; its values are {shown}")
    return list(dict.fromkeys(problems))


def _referrers(catalog: SchemaCatalog) -> dict[str, set[str]]:
    """table -> the tables whose keys point at it (their rows repeat its rows in a join)."""
    out: dict[str, set[str]] = {}
    for join in catalog.joins:
        many, one = join.left.split(".", 1)[0].lower(), join.right.split(".", 1)[0].lower()
        if many != one:
            out.setdefault(one, set()).add(many)
    return out


_SUMMED = (exp.Sum, exp.Avg, exp.Count)


def summed_tables(
    select: exp.Select, catalog: SchemaCatalog, counted: str | None
) -> list[tuple[exp.Expr, str]]:
    """(aggregate, table) for each sum, average or count of one table's rows in ``select`` (not
    DISTINCT, not a window): its column's table, or for ``count(*)`` the table the question
    counts (``counted``), when the select reads it."""
    out: list[tuple[exp.Expr, str]] = []
    joined = set(table_aliases(select).values())
    for agg in select.find_all(*_SUMMED):
        if not own(select, agg) or agg.find_ancestor(exp.Window) or agg.find(exp.Distinct):
            continue
        columns = list(agg.find_all(exp.Column))
        if not columns:
            if isinstance(agg, exp.Count) and counted is not None and counted.lower() in joined:
                out.append((agg, counted))
            continue
        owners = {column_table(select, c, catalog) for c in columns}
        if len(owners) == 1 and None not in owners:
            out.append((agg, next(iter(owners))))  # type: ignore[arg-type]
        # a figure of several tables' columns is a per-row figure of the join
    return out


def _repeating(table: str, joined: set[str], referrers: dict[str, set[str]]) -> set[str]:
    """The joined tables that point at ``table``, directly or through other joined tables:
    each repeats its rows."""
    repeating: set[str] = set()
    frontier = {table.lower()}
    while frontier:
        step = {m for t in frontier for m in referrers.get(t, set()) if m in joined} - repeating
        repeating |= step
        frontier = step
    repeating.discard(table.lower())
    return repeating


def _shared_key_joins(select: exp.Select, catalog: SchemaCatalog) -> dict[tuple[str, str], str]:
    """(table, other table) -> the key both point at, for each equality in ``select`` of two tables'
    foreign keys to the same key ("orders JOIN support_tickets ON o_custkey = customer_key"): each
    row of one side meets every row of the other that has the same key, so both repeat."""
    points_at = {j.left.lower(): j.right.lower() for j in catalog.joins}
    pairs: dict[tuple[str, str], str] = {}
    conditions = [j.args.get("on") for j in select.args.get("joins") or []]
    conditions.append(select.args.get("where"))
    for condition in conditions:
        for eq in condition.find_all(exp.EQ) if condition is not None else ():
            if not (isinstance(eq.this, exp.Column) and isinstance(eq.expression, exp.Column)):
                continue
            left, right = (column_table(select, c, catalog) for c in (eq.this, eq.expression))
            if left is None or right is None or left.lower() == right.lower():
                continue
            target = points_at.get(f"{left}.{eq.this.name}".lower())
            if target is not None and target == points_at.get(f"{right}.{eq.expression.name}".lower()):
                pairs[(left.lower(), right.lower())] = pairs[(right.lower(), left.lower())] = target
    return pairs


def fan_out_problems(sql: str, catalog: SchemaCatalog, question: str = "") -> list[str]:
    """Sums, averages and counts of one table's rows over a join that repeats them."""
    tree = parse(sql)
    if tree is None:
        return []
    counted = counted_table(question, catalog)
    # "Customers with more than 20 orders": the HAVING that picks them counts orders.
    threshold = count_threshold(question)
    per_entity = counted_table(f"how many {threshold.counted}", catalog) if threshold else None
    problems: list[str] = []
    for select in tree.find_all(exp.Select):
        found: list[str] = []
        joined = set(table_aliases(select).values())
        shared = _shared_key_joins(select, catalog)
        referrers = _referrers(catalog)
        for one, many in shared:
            referrers.setdefault(one, set()).add(many)
        target = per_entity if per_entity and select.args.get("having") is not None else counted
        for agg, table in summed_tables(select, catalog, target[1] if target else None):
            repeating = _repeating(table, joined, referrers)
            if not repeating:
                continue
            other = sorted(repeating)[0]
            if (table.lower(), other) in shared:
                hub = shared[(table.lower(), other)].split(".", 1)[0]
                fix = f"both point at {hub}: join {table} to {hub} directly, without {other}"
            elif isinstance(agg, exp.Count) and not agg.find(exp.Column):
                fix = f"count(DISTINCT the {table} key)"
            else:
                fix = f"aggregate {table} alone (filter with IN or EXISTS) or use DISTINCT"
            found.append(
                f"{agg.sql(dialect='duckdb')} adds up {table} rows, but the join with {other} repeats "
                f"each {table} row once per {other} row; {fix}"
            )
        # Whichever table the question counts, count(*) over two tables that share a key counts pairs.
        problems.extend(found or (_paired_count_problems(select, shared) if shared else []))
    return list(dict.fromkeys(problems))


def _paired_count_problems(select: exp.Select, shared: dict[tuple[str, str], str]) -> list[str]:
    """``count(*)`` over two tables joined by the key they both point at counts pairs of rows,
    whichever table the question meant."""
    (one, other), target = next(iter(shared.items()))
    table = target.split(".", 1)[0]
    return [
        f"{count.sql(dialect='duckdb')} counts every pair of {one} and {other} rows with the same {table} "
        f"key (both point at {table}); count one table's rows, joined to {table} directly"
        for count in select.find_all(exp.Count)
        if own(select, count) and not count.find(exp.Column) and not count.find_ancestor(exp.Window)
    ]


def _key_equality(on: exp.Expr | None) -> bool:
    return (
        isinstance(on, exp.EQ) and isinstance(on.this, exp.Column) and isinstance(on.expression, exp.Column)
    )


def reads(select: exp.Select, column: exp.Column, alias: str, table: str, catalog: SchemaCatalog) -> bool:
    """Whether ``column`` (anywhere under ``select``) reads the table written ``alias`` (``table``
    as the catalog spells it)."""
    if column.table:
        return column.table.lower() == alias
    return own(select, column) and column_table(select, column, catalog) == table


def _distinct_counts(select: exp.Select, catalog: SchemaCatalog, counted: str | None) -> list[exp.Count]:
    """``count(DISTINCT x)`` of the counted table's rows: x is one of its columns or a key that
    points at it."""
    if counted is None:
        return []
    counting = _counting_columns(catalog, counted)
    return [
        count
        for count in select.find_all(exp.Count)
        if own(select, count)
        and count.find(exp.Distinct)
        and (columns := list(count.find_all(exp.Column)))
        and all(c.name.lower() in counting for c in columns)
    ]


def _names(words: set[str], table: str) -> bool:
    """Whether the question's words name ``table`` ("ordered" names orders)."""
    stem = _stem(table.split(".")[-1].split("_")[-1])
    return any(w.startswith(stem[:5]) for w in words)


def _drop_dangling(
    select: exp.Select, catalog: SchemaCatalog, question_words: set[str], counted: str | None
) -> str | None:
    source = from_clause(select)
    joins: list[exp.Join] = list(select.args.get("joins") or [])
    if source is None or not joins or not isinstance(source.this, exp.Table):
        return None
    if any(not isinstance(j.this, exp.Table) or j.side or j.kind not in ("", "INNER") for j in joins):
        return None
    distinct = _distinct_counts(select, catalog, counted)
    aggregated = {table.lower() for _, table in summed_tables(select, catalog, counted)}
    if distinct and counted is not None:
        aggregated.add(counted.lower())
    referrers = _referrers(catalog)
    entries: list[exp.Table] = [source.this, *(j.this for j in joins)]
    for entry in entries:
        name = entry.name.lower()
        repeated = sorted(t for t in aggregated if name in referrers.get(t, set()))
        if not repeated or _names(question_words, name):
            continue
        alias = entry.alias_or_name.lower()
        uses = [c for c in select.find_all(exp.Column) if reads(select, c, alias, entry.name, catalog)]
        links = [j for j in joins if any(c.find_ancestor(exp.Join) is j for c in uses)]
        if len(links) != 1 or not _key_equality(links[0].args.get("on")):
            continue
        link = links[0]
        on = link.args["on"]
        mine, other = (
            (on.this, on.expression)
            if reads(select, on.this, alias, entry.name, catalog)
            else (
                on.expression,
                on.this,
            )
        )
        # Beyond its join it may only be counted through the key that join equates with the other
        # side's ("count(DISTINCT o_custkey)" over orders JOIN customer ON o_custkey = c_custkey):
        # that side is counted instead. Another key (l_partkey over lineitem JOIN orders ON
        # l_orderkey = o_orderkey) has no stand-in on the other side.
        beyond = [c for c in uses if c.find_ancestor(exp.Join) is None]
        if any(
            not any(c.find_ancestor(exp.Count) is d for d in distinct) or c.name.lower() != mine.name.lower()
            for c in beyond
        ):
            continue  # its columns are read beyond one join condition: it is part of the question
        if entry is source.this and link.this is not entry:
            source.set("this", link.this)  # the table it was joined to takes its place
        elif link.this is not entry:
            continue
        for column in beyond:
            column.replace(other.copy())
        joins.remove(link)
        select.set("joins", joins)
        return (
            f"{name} was joined only to repeat each {repeated[0]} row once per {name} row: that join "
            "was dropped"
        )
    return None


def dangling_join_repair(question: str, sql: str, catalog: SchemaCatalog) -> tuple[str, list[str]] | None:
    """The query without joins that only repeat the rows it sums ("avg(c_acctbal) FROM orders
    JOIN customer" where nothing of orders is used and the question does not mention orders)."""
    tree = parse(sql)
    if tree is None:
        return None
    words = {_stem(w) for w in re.findall(r"[a-z]+", question.lower())}
    counted = counted_table(question, catalog)
    target = counted[1] if counted else None
    changes = [
        c
        for select in list(tree.find_all(exp.Select))
        if (c := _drop_dangling(select, catalog, words, target))
    ]
    if not changes:
        return None
    return render(tree), changes


def _key_domains(catalog: SchemaCatalog) -> dict[str, str]:
    """``table.column`` of every join key -> the key it holds values of (a key referred to holds its
    own): ``supplier.s_nationkey`` and ``nation.n_nationkey`` -> ``nation.n_nationkey``."""
    domains: dict[str, str] = {}
    for join in catalog.joins:
        target = join.right.lower()
        domains[join.left.lower()] = target
        domains.setdefault(target, target)
    return domains


def key_mismatch_problems(sql: str, catalog: SchemaCatalog) -> list[str]:
    """Two keys of different things set equal (``r_regionkey = s_nationkey``): the query runs and
    pairs a region with whatever supplier's nation number happens to match. Keys holding values of
    the same key (``c_nationkey = s_nationkey``, "in the same nation") are fine."""
    tree = parse(sql)
    if tree is None:
        return []
    domains = _key_domains(catalog)
    problems: list[str] = []
    for select in tree.find_all(exp.Select):
        for node in select.find_all(exp.EQ):
            if not own(select, node) or not isinstance(node.this, exp.Column):
                continue
            if not isinstance(node.expression, exp.Column):
                continue
            if node.this.sql().lower() == node.expression.sql().lower():
                # ``JOIN lineitem ON budgets.month = budgets.month`` (or ``T1.id = t1.id``: unquoted
                # names ignore case) holds for every pair of rows.
                problems.append(
                    f"the query compares {node.this.sql(dialect='duckdb')} with itself, which holds for "
                    "every row: it pairs every row with every row of the other table"
                )
                continue
            sides = []
            for column in (node.this, node.expression):
                table = column_table(select, column, catalog)
                sides.append(f"{table}.{column.name}".lower() if table else None)
            left, right = sides
            if left is None or right is None or left not in domains or right not in domains:
                continue
            if domains[left] != domains[right]:
                problems.append(
                    f"the query sets {left} equal to {right}, but they are keys of different things "
                    f"({domains[left]} and {domains[right]}); join through the tables that link them"
                )
    return problems


def window_repeat_problems(sql: str, table: Table) -> list[str]:
    """A window aggregate (``count(*) OVER (PARTITION BY status)``) keeps every row it reads, so a
    breakdown comes back as the same row many times; GROUP BY gives one row per group."""
    tree = parse(sql)
    if tree is None or tree.find(exp.Window) is None:
        return []
    rows = [tuple(map(repr, row)) for row in table.rows]
    if len(set(rows)) == len(rows):
        return []
    return [
        "the result repeats identical rows: a window function (OVER) keeps every row it reads; "
        "aggregate with GROUP BY for one row per group"
    ]


# "How many orders contain more than 5 line items", "customers with at least 20 orders": entities
# picked by a count of their own rows, then counted.
_COUNT_THRESHOLD = re.compile(
    r"\bhow many ([a-z]+(?: [a-z]+)?)\b.*?\b(?:have|has|had|contain|contains|contained|include|"
    r"includes|placed|with|made|got|received) "
    r"(more than|over|fewer than|less than|under|at least|at most|exactly) "
    r"(\d+) ([a-z]+(?: (?!(?:in|on|at|by|of|for|from|during|since|per|each|and|are|is|was|were|"
    r"this|last|to)\b)[a-z]+)?)",
    re.I,
)

_BOUNDS = {
    "more than": ">",
    "over": ">",
    "fewer than": "<",
    "less than": "<",
    "under": "<",
    "at least": ">=",
    "at most": "<=",
    "exactly": "=",
}


class CountThreshold(BaseModel):
    """ "How many orders contain more than 5 line items": entity "orders", counted "line items"."""

    entity: str
    operator: str
    number: int
    counted: str


def count_threshold(question: str) -> CountThreshold | None:
    """The entities a question picks by a count of their own rows, if it does."""
    match = _COUNT_THRESHOLD.search(question)
    if match is None:
        return None
    entity, bound, number, counted = match.groups()
    return CountThreshold(entity=entity, operator=_BOUNDS[bound.lower()], number=int(number), counted=counted)


_COUNTED = re.compile(
    r"\b(?:how many|number of|count of|most|fewest|least|more|fewer)\s+"
    r"(?:distinct\s+|different\s+|unique\s+)?([a-z]+)(?:\s+([a-z]+))?",
    re.I,
)


def counted_table(question: str, catalog: SchemaCatalog) -> tuple[str, str] | None:
    """(the word, the table) when the question counts a table's rows: "how many customers",
    "the most suppliers"."""
    for match in _COUNTED.finditer(question):
        # "how many sales activities": the second word names the table when the first names none;
        # "how many line items" names lineitem with both.
        first, second = match.groups()
        words = [f"{first} {second}"] if second else []
        for word in [*words, *(w for w in match.groups() if w)]:
            for info in catalog.tables:
                if _stem(info.name.split(".")[-1].split("_")[-1]) == _stem(word.replace(" ", "")):
                    return word, info.name
    # "How many demos": rows of the table whose kind column holds 'Demo' (activities).
    for match in _COUNTED.finditer(question):
        word = match.group(1).lower()
        for column, values in catalog.categorical().items():
            if any(v.lower() in (word, _stem(word)) for v in values):
                return word, column.split(".", 1)[0]
    return None


def _stem(word: str) -> str:
    word = word.lower()
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _counted_from_tables(
    question: str, sql: str, catalog: SchemaCatalog
) -> tuple[str, str, exp.Select, set[str]] | None:
    """(the word, the table it counts, the query, the query's own tables) when the question counts
    a table's rows and the query reads tables; None when it counts over a subquery (EXCEPT, two
    subqueries subtracted), whose rows are not a table's."""
    counted = counted_table(question, catalog)
    tree = parse(sql)
    if counted is None or not isinstance(tree, exp.Select):
        return None
    source = from_clause(tree)
    if source is None or not isinstance(source.this, exp.Table):
        return None
    return counted[0], counted[1], tree, set(table_aliases(tree).values())


def absent_counted_problems(question: str, negation: str, sql: str, catalog: SchemaCatalog) -> list[str]:
    """ "How many customers have never placed an order" (``negation``: "never") counts customer
    rows: customers who never did have no rows in orders, so counting keys of the event's table
    (count(DISTINCT o_custkey) FROM orders) finds only ones that did, whatever it excludes."""
    found = _counted_from_tables(question, sql, catalog)
    if found is None:
        return []
    word, target, _, tables = found
    if target.lower() in tables:
        return []
    return [
        f"the question counts {word} that did not ({negation!r}), and those have no rows in the "
        f"tables the query counts from: count rows of {target} and exclude the ones that did"
    ]


def counted_table_problems(question: str, sql: str, catalog: SchemaCatalog) -> list[str]:
    """ "How many customers" must count customer rows, or distinct keys of customers."""
    found = _counted_from_tables(question, sql, catalog)
    if found is None:
        return []
    word, target, tree, tables = found
    if any(catalog.table(t) is None for t in tables):
        return []  # ... nor are a CTE's
    for count in tree.find_all(exp.Count):
        if not own(tree, count):
            continue
        if count.find(exp.Distinct):
            names = {c.name.lower() for c in count.find_all(exp.Column)}
            if names & _counting_columns(catalog, target):
                return []
        elif target.lower() in tables:
            return []
    if not any(own(tree, c) for c in tree.find_all(exp.Count)):
        return []
    return [f"the question counts {word}, but the query counts no {target} rows or keys"]


_COMPARED = re.compile(r"more|fewer|most|fewest|least", re.I)


def counted_amount_problems(question: str, sql: str, catalog: SchemaCatalog) -> list[str]:
    """ "The number of leads from events campaigns" over campaigns, whose ``leads`` column holds
    each campaign's leads: ``count(*)`` counts the campaigns, not their leads. ("More conversions
    than 50" compares the column; it counts nothing.)"""
    words = [m.group(1) for m in _COUNTED.finditer(question) if not _COMPARED.match(m.group(0))]
    tree = parse(sql)
    if not words or tree is None:
        return []
    problems = []
    for select in tree.find_all(exp.Select):
        if not any(own(select, c) and isinstance(c.this, exp.Star) for c in select.find_all(exp.Count)):
            continue
        for alias, table in table_aliases(select).items():
            info = catalog.table(table)
            for col in info.columns if info is not None else ():
                column = exp.column(col.name, table=alias)
                if any(_amount_column(select, column, w, catalog) for w in words):
                    problems.append(
                        f"the question counts {col.name}, which {info.name}.{col.name} holds for each row, "
                        f"but count(*) counts {info.name} rows; add them up: sum({col.name})"
                    )
    return list(dict.fromkeys(problems))


def stray_distinct_count_problems(question: str, sql: str, catalog: SchemaCatalog) -> list[str]:
    """ "How many deals did we win" answered with ``count(DISTINCT sales_reps.name)`` counts reps:
    a distinct count of a name or label whose column and table the question never mentions."""
    tree = parse(sql)
    asked = {w[:4] for w in re.findall(r"[a-z]{3,}", question.lower())}
    problems = []
    for select in tree.find_all(exp.Select) if tree is not None else []:
        for count in select.find_all(exp.Count):
            distinct = count.this if isinstance(count.this, exp.Distinct) else None
            first = distinct.expressions[0] if distinct is not None and distinct.expressions else None
            column = first if isinstance(first, exp.Column) else None
            if column is None or not own(select, count) or re.search(r"(?:key|_id|^id)$", column.name, re.I):
                continue
            table = column_table(select, column, catalog)
            if table is None:
                continue
            bare = re.sub(r"^[a-z]{1,2}_", "", column.name.lower())
            named = [p[:4] for p in re.split(r"[^a-z]+", bare) if p]
            named += [_stem(p)[:4] for p in table.lower().split("_") if len(p) >= 3]
            if not any(n in asked for n in named):
                problems.append(
                    f"the query counts distinct {table}.{column.name}, which the question never mentions"
                )
    return problems


_WINDOW_AGGREGATES = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max)


def grouped_window_problems(sql: str) -> list[str]:
    """``count(*) OVER (PARTITION BY month)`` in a query grouped by month sees one row per
    partition, so it counts 1: the aggregate belongs outside the window."""
    tree = parse(sql)
    problems = []
    for select in tree.find_all(exp.Select) if tree is not None else []:
        group = select.args.get("group")
        if group is None:
            continue
        aliases = {p.alias.lower(): p.unalias() for p in select.expressions if p.alias}
        keys = {_grouping_key(e, aliases) for e in group.expressions}
        for window in select.find_all(exp.Window):
            parts = window.args.get("partition_by") or []
            aggregate = isinstance(window.this, _WINDOW_AGGREGATES)
            if not own(select, window) or not aggregate or not parts:
                continue
            # Partitions exactly the groups: each holds one grouped row.
            if {_grouping_key(p, aliases) for p in parts} == keys:
                problems.append(
                    f"{window.sql(dialect='duckdb')} runs over the grouped rows, one per group: "
                    f"use {window.this.sql(dialect='duckdb')} without OVER"
                )
    return problems


def ungrouped_having_problems(sql: str) -> list[str]:
    """``HAVING count(*) > 5`` without GROUP BY tests the whole table as one group, so it keeps
    all rows or none: a per-entity condition needs the entity's GROUP BY, in a subquery."""
    tree = parse(sql)
    return [
        f"HAVING {having.this.sql(dialect='duckdb')} without GROUP BY tests the whole table as one "
        "group; to count the entities that meet it, group by the entity's key in a subquery with that "
        "HAVING, then count its rows"
        for select in (tree.find_all(exp.Select) if tree is not None else [])
        if (having := select.args.get("having")) is not None and select.args.get("group") is None
    ]


def inner_null_problems(sql: str, catalog: SchemaCatalog) -> list[str]:
    """``o_orderkey IS NULL`` after an inner JOIN of orders never holds (a key is never empty and
    the join keeps only matches): "customers who never ordered" need LEFT JOIN or NOT EXISTS."""
    tree = parse(sql)
    keys = {side.lower() for j in catalog.joins for side in (j.left, j.right)}
    problems = []
    for select in tree.find_all(exp.Select) if tree is not None else []:
        outer = {
            j.this.alias_or_name.lower()
            for j in select.args.get("joins") or []
            if isinstance(j.this, exp.Table) and j.side
        }
        where = select.args.get("where")
        for null in where.find_all(exp.Is) if where is not None else []:
            column = null.this
            if not isinstance(column, exp.Column) or not isinstance(null.expression, exp.Null):
                continue
            if isinstance(null.parent, exp.Not):
                continue  # IS NOT NULL
            table = column_table(select, column, catalog)
            written = column.table.lower() if column.table else (table or "").lower()
            if table is None or written in outer or f"{table}.{column.name}".lower() not in keys:
                continue
            problems.append(
                f"{null.sql(dialect='duckdb')} never holds: {table} is inner-joined, so its key is never "
                f"empty; use LEFT JOIN {table} (or NOT EXISTS) to find rows without a match"
            )
    return problems


def unlinked_join_problems(sql: str, catalog: SchemaCatalog) -> list[str]:
    """``JOIN region ON c_nationkey = n_nationkey``: a join whose condition reads none of the joined
    table's columns pairs every row with every row of that table, so a filter on it
    (``r_name = 'MIDDLE EAST'``) keeps every row."""
    tree = parse(sql)
    problems = []
    for select in tree.find_all(exp.Select) if tree is not None else []:
        tables = set(table_aliases(select).values())
        for join in select.args.get("joins") or []:
            on = join.args.get("on")
            if on is None or not isinstance(join.this, exp.Table):
                continue
            alias, name = join.this.alias_or_name.lower(), join.this.name.lower()
            columns = list(on.find_all(exp.Column))
            if not columns or any(
                (c.table.lower() == alias) if c.table else column_table(select, c, catalog) in (name, None)
                for c in columns
            ):
                continue
            keys = [
                k.condition
                for k in catalog.joins
                if name in (ends := {t.lower() for t in k.tables}) and ends <= tables
            ]
            fix = f"; join it ON {keys[0]}" if keys else ""
            problems.append(
                f"{join.this.name} is joined ON {on.sql(dialect='duckdb')}, which reads none of its columns: "
                f"every row is paired with every {join.this.name} row{fix}"
            )
    return problems


def partitioned_figure_problems(select: exp.Select) -> list[str]:
    """``sum(x) OVER (PARTITION BY c_name)`` in an ungrouped query is a figure per customer on each
    row, not the overall one."""
    for projection in select.expressions:
        for window in projection.find_all(exp.Window):
            parts = window.args.get("partition_by") or []
            if parts and isinstance(window.this, _WINDOW_AGGREGATES):
                written = ", ".join(p.sql(dialect="duckdb") for p in parts)
                return [
                    f"the question asks for one overall figure, but the query computes it per {written} "
                    "(OVER PARTITION BY); aggregate all rows into one"
                ]
    return []


def summed_share_problems(sql: str, catalog: SchemaCatalog) -> list[str]:
    """``sum(l_discount)`` adds up rates: the total is an amount only once each rate is multiplied
    by what it applies to (a sum divided by a count is an average, and is left alone)."""
    tree = parse(sql)
    problems = []
    for select in tree.find_all(exp.Select) if tree is not None else []:
        for total in select.find_all(exp.Sum):
            column = total.this
            while isinstance(column, exp.Cast | exp.Paren):
                column = column.this
            ratio = total.find_ancestor(exp.Div)
            divided = ratio is not None and own(select, ratio)
            if not own(select, total) or not isinstance(column, exp.Column) or divided:
                continue
            col = _catalog_column(select, column, catalog)
            if col is not None and col.share:
                problems.append(
                    f"{total.sql(dialect='duckdb')} adds up rates ({col.name} lies between 0 and 1), which "
                    f"is not an amount: multiply each by the amount it applies to inside sum(), or "
                    f"average it with avg({col.name})"
                )
    return problems


def _grouping_key(node: exp.Expr, aliases: dict[str, exp.Expr]) -> str:
    """A GROUP BY or PARTITION BY key as SQL text, an output alias read as its expression."""
    if isinstance(node, exp.Column) and not node.table and node.name.lower() in aliases:
        node = aliases[node.name.lower()]
    return node.sql(dialect="duckdb").lower()


def _amount_column(select: exp.Select, column: exp.Column, word: str, catalog: SchemaCatalog) -> bool:
    """Whether ``column`` is a numeric measure named for ``word`` ("conversions", "units")."""
    col = _catalog_column(select, column, catalog)
    if col is None or not col.numeric or re.search(r"(?:key|_id|^id)$", col.name, re.I):
        return False
    bare = re.sub(r"^[a-z]{1,2}_", "", col.name.lower())
    return _stem(bare.split("_")[-1]) == _stem(word)


def count_to_sum_repair(question: str, sql: str, catalog: SchemaCatalog) -> tuple[str, list[str]] | None:
    """ "How many conversions" over a numeric ``conversions`` column adds it up: ``count(conversions)``
    (the number of rows that have one) becomes ``sum(conversions)``."""
    words = [m.group(1) for m in _COUNTED.finditer(question)]
    tree = parse(sql)
    if not words or tree is None:
        return None
    changes = []
    for select in list(tree.find_all(exp.Select)):
        for count in list(select.find_all(exp.Count)):
            column = count.this
            if not own(select, count) or not isinstance(column, exp.Column):
                continue  # count(*), count(DISTINCT ...): rows or things, not amounts
            if any(_amount_column(select, column, w, catalog) for w in words):
                count.replace(exp.Sum(this=column.copy()))
                changes.append(f"'how many {column.name}' adds up {column.name}: count became sum")
    if not changes:
        return None
    return render(tree), changes


TIE_WINDOW = 20
"""Rows read past a ranking's LIMIT to find the ones tied with its last row."""


class Ranking(BaseModel):
    """A query cut by ``ORDER BY ... LIMIT n`` and the same query reading past its cut."""

    limit: int
    column: str
    """The output column holding the first ordering key."""
    wider_sql: str


def ranking(sql: str) -> Ranking | None:
    """The ranking of a top-N query whose first ordering key is one of its output columns (by
    alias or by expression); None for any other query."""
    tree = parse(sql)
    if not isinstance(tree, exp.Select):
        return None
    limit, order = tree.args.get("limit"), tree.args.get("order")
    if limit is None or order is None or not order.expressions:
        return None
    count = limit.expression
    if not (isinstance(count, exp.Literal) and count.is_int):
        return None
    key = order.expressions[0].this
    written = key.sql(dialect="duckdb").lower()
    column = next(
        (
            p.alias_or_name
            for p in tree.expressions
            if p.alias_or_name.lower() == written or p.unalias().sql(dialect="duckdb").lower() == written
        ),
        None,
    )
    if column is None:
        return None
    limit.set("expression", exp.Literal.number(int(count.this) + TIE_WINDOW))
    return Ranking(limit=int(count.this), column=column, wider_sql=render(tree))


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def _mismatched_text_dates(tree: exp.Expr) -> Iterator[tuple[exp.TimeToStr, exp.Literal, str]]:
    """(the formatted date, the literal, the format's shape) for each comparison of a formatted
    date with text of another shape."""
    for node in tree.find_all(*_COMPARISONS, exp.Between):
        sides = [node.this, *(node.args.get(k) for k in ("expression", "low", "high"))]
        texts = [s for s in sides if isinstance(s, exp.Literal) and s.is_string]
        for formatted in (s for s in sides if isinstance(s, exp.TimeToStr)):
            fmt = formatted.args.get("format")
            if not isinstance(fmt, exp.Literal):
                continue
            try:
                shape = date(2000, 1, 1).strftime(fmt.this)  # what the formatted text looks like
            except ValueError:
                continue
            for text in texts:
                if len(text.this) != len(shape):
                    yield formatted, text, shape


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def text_date_repair(sql: str) -> tuple[str, list[str]] | None:
    """``strftime(d, '%Y-%m') >= '1995-01-01'`` -> ``d >= DATE '1995-01-01'``: a day written in
    full says the query meant to compare dates."""
    tree = parse(sql)
    if tree is None:
        return None
    changes = []
    for formatted, text, _ in list(_mismatched_text_dates(tree)):
        if not _DAY.match(text.this) or formatted.parent is None:
            continue
        written = formatted.sql(dialect="duckdb")
        changes.append(f"{written} compared with '{text.this}' is compared as a date")
        text.replace(exp.cast(exp.Literal.string(text.this), exp.DataType.build("DATE")))
        formatted.replace(formatted.this.copy())
    return (render(tree), changes) if changes else None


def text_date_problems(sql: str) -> list[str]:
    """``strftime(d, '%Y-%m') >= '1995-01-01'`` compares text, not dates: '1995-01' sorts before
    '1995-01-01', so the first month drops out and the next period's first month comes in."""
    tree = parse(sql)
    return [
        f"{formatted.sql(dialect='duckdb')} gives text like '{shape}', which does not compare with "
        f"'{text.this}' as a date does; compare the date column itself (>= DATE '...' AND < DATE '...')"
        for formatted, text, shape in (_mismatched_text_dates(tree) if tree is not None else [])
    ]


_ASKED_YEAR = re.compile(r"(?<![\d.,$])(?:19|20)\d\d(?![\d%]|[.,]\d)")


def conjuncts(node: exp.Expr) -> list[exp.Expr]:
    return [*conjuncts(node.this), *conjuncts(node.expression)] if isinstance(node, exp.And) else [node]


def open_year_problems(sql: str, years: list[str]) -> list[str]:
    """``l_receiptdate >= DATE '1996-01-01'`` with no end, for a question about 1996, keeps every
    year from 1996 on: a whole year asked for is bounded on both sides, in every select."""
    tree = parse(sql) if years else None
    problems = []
    for select in tree.find_all(exp.Select) if tree is not None else []:
        where = select.args.get("where")
        terms = conjuncts(where.this) if where is not None else []
        ends = {
            c.this.name.lower()
            for c in terms
            if isinstance(c, exp.LT | exp.LTE | exp.Between) and isinstance(c.this, exp.Column)
        }
        for c in terms:
            if not (isinstance(c, exp.GTE | exp.GT) and isinstance(c.this, exp.Column)):
                continue
            year = next((y for y in years if y in c.expression.sql(dialect="duckdb")), None)
            if year is not None and c.this.name.lower() not in ends:
                problems.append(
                    f"{c.sql(dialect='duckdb')} has no end, so it keeps every year from {year} on; "
                    f"add {c.this.name} < DATE '{int(year) + 1}-01-01'"
                )
    return problems


def unfiltered_overall_repair(question: str, sql: str) -> tuple[str, list[str]] | None:
    """``(SELECT avg(x) FROM lineitem) AS overall`` beside ``FROM lineitem WHERE year(l_shipdate) =
    1996`` is the figure of every year: the overall figure of a question about 1996 is 1996's, so
    the subquery gets the outer query's period conditions (only those: "overall" spans the rest)."""
    years = set(_ASKED_YEAR.findall(question))
    tree = parse(sql) if years else None
    where = tree.args.get("where") if isinstance(tree, exp.Select) else None
    if not isinstance(tree, exp.Select) or where is None:
        return None
    # A year's conditions: those on its own year, and the next year's first day that ends it
    # ("< DATE '1997-01-01'" for 1996); copying only the first would run the figure on to today.
    bounds = years | {str(int(y) + 1) for y in years}
    period = [
        c
        for c in conjuncts(where.this)
        if (found := set(_ASKED_YEAR.findall(c.sql(dialect="duckdb"))))
        and found <= bounds
        and (found & years or re.search(r"<(?!=)", c.sql(dialect="duckdb")))
    ]
    outer = sorted(t.name.lower() for t in tree.find_all(exp.Table) if own(tree, t))
    changes = []
    for projection in tree.expressions if period else []:
        for sub in projection.find_all(exp.Subquery):
            body = sub.this
            if (
                not isinstance(body, exp.Select)
                or body.args.get("where") is not None
                or body.find(exp.AggFunc) is None
                or sorted(t.name.lower() for t in body.find_all(exp.Table)) != outer
            ):
                continue
            condition = exp.and_(*(c.copy() for c in period))
            body.set("where", exp.Where(this=condition))
            changes.append(
                f"the overall figure {projection.alias_or_name} was computed over every year: it now keeps "
                f"{condition.sql(dialect='duckdb')} as the query does"
            )
    return (render(tree), changes) if changes else None
