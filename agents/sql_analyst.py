"""The SQL analyst: a question no department tool answers exactly becomes one checked SELECT.

The model (a coder model) sees the live schema as ``CREATE TABLE`` text with sample values and
business definitions, and writes one DuckDB SELECT. The SQL must parse as a single read-only
SELECT and pass EXPLAIN; errors, empty results and failed answer checks go back to the model (at
most ``max_retries`` times, and at most ``max_calls`` model calls per question). The result is
*verified* only when it passes the answer checks and either a second, independently sampled query
returns the same figures, or the reply's own token probabilities give such a sample at least
:data:`SURE` chance of writing the same query (then it is not drawn); otherwise it is reported as
unverified, with the reasons.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from atomwork.agents.answer_checks import check_sql_answer
from atomwork.agents.answerer import table_text
from atomwork.agents.data_probe import warehouse_probe
from atomwork.agents.sql_feedback import error_hints
from atomwork.agents.sql_hints import question_notes
from atomwork.agents.sql_repair import repairs
from atomwork.agents.sql_structure import (
    count_to_sum_repair,
    dangling_join_repair,
    ranking,
    text_date_repair,
    unfiltered_overall_repair,
    value_case_repair,
)
from atomwork.agents.year_comparison import YearSplit, join_years, split_by_year
from atomwork.errors import AtomworkError, PermissionDenied
from atomwork.models.base import ChatModel, Completion
from atomwork.models.logprobs import TokenLogprob, repeat_chance
from atomwork.models.purpose import Purpose
from atomwork.policy import Access
from atomwork.prompts import render
from atomwork.table import Table
from atomwork.tool_result import Attempt, Provenance, ToolResult
from atomwork.tools.base import Tool
from atomwork.tools.context import RunContext
from atomwork.tools.glossary import STANDARD, Glossary
from atomwork.tools.schema import SchemaCatalog
from atomwork.tools.warehouse import DEFAULT_ROW_LIMIT, Warehouse
from atomwork.tools.warehouse.periods import resolve_period

_SQL_BLOCK = re.compile(r"```(?:sql|duckdb)?\s*\n?(.*?)(?:```|$)", re.S | re.I)
_FENCE = "```"
_SQL_START = re.compile(r"\b(WITH|SELECT)\b", re.I)
_RELATIVE = re.compile(
    r"\b(?:(?:last|previous|prior|this|current|past)\s+(?:\d+\s+)?(?:quarter|year|month|days?|weeks?|"
    r"months|quarters|years)|year[\s-]to[\s-]date|ytd|quarter[\s-]to[\s-]date)\b",
    re.I,
)

# The same cached prompt, decoded greedily and then sampled: when the model is sure of its query,
# samples land on the same figures; when it is guessing, they scatter and the answer stays
# unverified. (Rephrased prompts were tried and wrote worse SQL, and they defeat the KV cache.)
TEMPERATURES: tuple[float, ...] = (0.0, 0.4, 0.7)

SURE = 0.4
"""The least chance that a verifying sample repeats the greedy query for that sample to be skipped.
In the labeled set (evals/labeled_sql.jsonl, 410 queries), none of the 198 that pass every check
with a chance of 0.2 or more is wrong; 8 of the 74 below 0.2 are. The threshold stays at twice
the highest chance a wrong query has shown."""

MAX_CALLS = 3
"""Model calls per question (per compared year, where one is split by year). In a traced run of
the 78 fact questions, 15 were unsettled after three calls and took 532 of the 1,052 seconds; later
calls verified 3 of them (the other 12 stayed unverified). Past three calls the model mostly
rewrites the query it was asked to correct: a plain "not verified" sooner serves the user better."""

REPLY_START = "```sql\n"
"""How the prompt asks every reply to begin: given to the model rather than decoded (three decoding
steps a call), and a reply ends at its closing fence (one more: the end-of-turn token)."""

LOGPROB_ALTERNATIVES = 5
"""Alternatives read per token of a greedy query: enough to bound a sample's chance of repeating it."""

RETRY_TEMPERATURE = 0.3
"""The least temperature of a corrected query: decoded greedily, the correction of a query that
failed often repeats it word for word, the error notwithstanding."""


class SqlCandidate(BaseModel):
    """One query the model wrote (after its error retries) and what came of it."""

    variant: int
    """Index into :data:`TEMPERATURES`."""
    sql: str = ""
    reply: str = ""
    """The model's last reply, the SQL in its fence."""
    table: Table | None = None
    truncated: bool = False
    error: str | None = None
    problems: list[str] = Field(default_factory=list)
    """Answer checks that failed."""
    repairs: list[str] = Field(default_factory=list)
    """Rewrites of the model's query that made it run (:mod:`.sql_repair`)."""
    tied: int = 0
    """Rows past the query's ``ORDER BY ... LIMIT n`` that tie with its last row, added to ``table``:
    which of the tied rows a LIMIT keeps is arbitrary, so two samples agree on the full tie."""
    calls: int = 0
    question: str | None = None
    """The question this query answered, where it is one part of the asked one (a compared year)."""
    repeat_chance: float | None = None
    """The chance, from the model's token probabilities, that a sample of the same conversation at
    the verifying temperature writes this query (respellings aside); None when the backend reports
    no token probabilities."""
    stuck: bool = False
    """Its first query is one that already failed for this question: it is not corrected again (the
    correction went nowhere before), and the next, more varied sample is drawn instead."""

    @property
    def usable(self) -> bool:
        return self.table is not None and not self.problems


class SqlAnswer(BaseModel):
    question: str
    sql: str
    table: Table
    truncated: bool = False
    verified: bool
    notes: list[str] = Field(default_factory=list)
    candidates: list[SqlCandidate] = Field(default_factory=list)


class PeriodHint(BaseModel):
    phrase: str
    start: date
    end: date


def period_hints(question: str, today: date | None, earliest: date | None = None) -> list[PeriodHint]:
    """Relative periods in ``question`` ("last quarter") resolved against the data's last date."""
    if today is None:
        return []
    hints = []
    for match in _RELATIVE.finditer(question):
        phrase = match.group(0)
        try:
            start, end, _ = resolve_period(phrase.replace(" ", "_"), today, earliest=earliest)
        except AtomworkError:
            continue
        hints.append(PeriodHint(phrase=phrase, start=start, end=end))
    return hints


def extract_sql(text: str) -> str:
    """The SQL in a model reply: a fenced block, else everything from the first SELECT/WITH."""
    block = _SQL_BLOCK.search(text)
    if block:
        body = block.group(1)
    else:
        start = _SQL_START.search(text)
        body = text[start.start() :] if start else text
    # Keep leading ``--`` comment lines (the second framing asks for them); drop prose.
    lines = body.strip().splitlines()
    starts = (
        i for i, line in enumerate(lines) if line.lstrip().startswith("--") or _SQL_START.match(line.strip())
    )
    first = next(starts, 0)
    return "\n".join(lines[first:]).strip().split(";")[0].strip()


def query_repeat_chance(reply: Completion, temperature: float) -> float | None:
    """The chance that a sample at ``temperature`` writes the same query as ``reply``: the tokens up
    to the end of its SQL fence count, prose after it does not, and a token choice that only
    respells the query (letter case, spacing, an output alias, the closing semicolon) counts as the
    same query. None when the backend reported no token probabilities."""
    if not reply.logprobs:
        return None
    block = _SQL_BLOCK.search(reply.text)
    end = block.end(1) if block else len(reply.text)
    counted: list[TokenLogprob] = []
    starts: list[int] = []  # where each counted token starts in the reply's text
    length = len(reply.given)  # a given start was not sampled: a sample starts with it too
    for token in reply.logprobs:
        counted.append(token)  # the token that reaches the end decides where the query stops
        starts.append(length)
        length += len(token.token)
        if length > end:
            break
    generated = reply.given + "".join(t.token for t in counted)

    def respells(i: int, alternative: str) -> bool:
        if _names_alias(generated[: starts[i]], counted[i].token, alternative):
            return True
        ahead = generated[starts[i] :]
        quoted = generated.count("'", 0, starts[i]) % 2 == 1  # the token starts inside a text value
        wanted = _spelling(alternative, quoted)
        readings = (ahead, _OUTPUT_ALIAS.sub("", ahead))  # with and without the output aliases
        return any(_spelling(text, quoted).startswith(wanted) for text in readings)

    return repeat_chance(counted, temperature, equivalent=respells)


_OUTPUT_ALIAS = re.compile(r"\s+AS\s+(?:\w+|\"[^\"]*\")", re.I)


_AS_END = re.compile(r"\bAS\s*$", re.I)
_AS_NAME_END = re.compile(r"\bAS\s+\w+$", re.I)
_NAME_START = re.compile(r"\s*\w+")
_NAME_GOES_ON = re.compile(r"\w+|\s+")


def _names_alias(before: str, token: str, alternative: str) -> bool:
    """Whether ``token`` and ``alternative`` both only spell the name given after ``AS`` (an output
    column's or a table's: the figures do not depend on it); a type in ``CAST(x AS type)`` does."""
    if _AS_END.search(before):
        shape = _NAME_START  # the name's first word
    elif _AS_NAME_END.search(before):
        shape = _NAME_GOES_ON  # more of the name, or its end
    else:
        return False
    if not shape.fullmatch(token) or not shape.fullmatch(alternative):
        return False
    cast = before.upper().rfind("CAST(")
    return cast < 0 or before.count("(", cast) <= before.count(")", cast)


def _spelling(text: str, quoted: bool = False) -> str:
    """SQL text with what does not change its meaning taken out: letter case, spacing and semicolons
    outside text values (``quoted``: ``text`` starts inside one)."""
    kept = []
    for part in text.split("'"):
        kept.append(part if quoted else re.sub(r"[\s;]+", "", part).lower())
        quoted = not quoted
    return "'".join(kept)


_CLAUSE_BREAKS = (
    (" JOIN ", "\nJOIN "),
    (" WHERE ", "\nWHERE "),
    (" AND ", "\n  AND "),
    (" GROUP BY ", "\nGROUP BY "),
    (" ORDER BY ", "\nORDER BY "),
)


def laid_out(text: str) -> str:
    """``text`` and then ``text`` with its SQL clauses on lines of their own, as the model lays out
    the query that quotes it: drafted from the one-line notes alone, the token after each line
    break never matches (on 8 fact questions, 11% fewer decoding steps and 6% less time)."""
    broken = text
    for inline, own_line in _CLAUSE_BREAKS:
        broken = broken.replace(inline, own_line)
    return text if broken == text else f"{text}\n{broken}"


def _query_key(sql: str) -> str:
    """A query as its figures see it: letter case, spacing, semicolons and output names aside."""
    return _spelling(_OUTPUT_ALIAS.sub("", sql))


def results_agree(a: Table, b: Table, *, rel_tol: float = 1e-6) -> bool:
    """Whether two results state the same figures: same row count, and every column of the
    narrower result equals (as a multiset) some column of the wider one."""
    if len(a.rows) != len(b.rows):
        return False
    a, b = _period_labels(a), _period_labels(b)
    narrow, wide = (a, b) if len(a.columns) <= len(b.columns) else (b, a)
    wide_cols = [_column_key(wide, i) for i in range(len(wide.columns))]
    mapping = []
    for i in range(len(narrow.columns)):
        key = _column_key(narrow, i)
        match = next((j for j, other in enumerate(wide_cols) if _same(key, other, rel_tol)), None)
        if match is None:
            return False
        mapping.append(match)
    # Same columns are not enough: each row must pair the same label with the same figure.
    mine = sorted((_row_key(row) for row in narrow.rows), key=repr)
    theirs = sorted((_row_key([row[j] for j in mapping]) for row in wide.rows), key=repr)
    return mine == theirs


_YEAR_START = re.compile(r"^(\d{4})-01-01(?:[ T]00:00:00)?$")
_MONTH_START = re.compile(r"^(\d{4}-\d{2})-01(?:[ T]00:00:00)?$")


def _period_labels(table: Table) -> Table:
    """One spelling for a period label: ``date_trunc('year', d)`` gives '1992-01-01 00:00:00'
    where ``year(d)`` gives 1992, and a truncated month '1996-03-01' is strftime's '1996-03'."""
    columns = list(zip(*table.rows, strict=True)) if table.rows else []
    fixed: list[list[object]] = []
    for values in columns:
        texts = [str(v) for v in values]
        if len(set(texts)) > 1 and all(_YEAR_START.match(t) for t in texts):
            fixed.append([int(t[:4]) for t in texts])
        elif all(_MONTH_START.match(t) for t in texts):
            fixed.append([t[:7] for t in texts])
        else:
            fixed.append(list(values))
    if not fixed:
        return table
    return Table(columns=table.columns, rows=[list(row) for row in zip(*fixed, strict=True)])


def _row_key(row: list[object]) -> tuple[object, ...]:
    """A row for comparison: numbers rounded to the results' 4 decimals' slack, text folded."""
    return tuple(
        round(float(v), 2)
        if isinstance(v, int | float) and not isinstance(v, bool)
        else str(v).strip().lower()
        for v in row
    )


def _column_key(table: Table, index: int) -> list[object]:
    """A column as a sorted multiset: numbers as floats (NULLs last), anything else as text."""
    values = [row[index] for row in table.rows]
    key: list[object]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values if v is not None):
        key = [*sorted(float(v) for v in values if v is not None)]
        key.extend(None for v in values if v is None)
    else:
        key = [*sorted(str(v).strip().lower() for v in values)]
    return key


def _same(a: list[object], b: list[object], rel_tol: float) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, float) and isinstance(y, float):
            # Results are rounded to 4 decimals when read, so allow that much absolute slack.
            if not math.isclose(x, y, rel_tol=rel_tol, abs_tol=1e-3):
                return False
        elif x != y:
            return False
    return True


class SqlAnalyst:
    """Writes, checks, runs and cross-verifies one SELECT per question."""

    def __init__(
        self,
        warehouse: Warehouse,
        model: ChatModel,
        *,
        catalog: SchemaCatalog | None = None,
        glossary: Glossary = STANDARD,
        max_retries: int = 2,
        max_calls: int = MAX_CALLS,
        verify: bool = True,
        max_tokens: int = 400,
    ) -> None:
        self.warehouse = warehouse
        self.model = model
        self.catalog = catalog or SchemaCatalog.read(warehouse)
        self.glossary = glossary.for_schema(self.catalog)
        self.max_retries = max_retries
        self.max_calls = max_calls
        self.verify = verify
        self.max_tokens = max_tokens
        span = warehouse.date_range()
        self._earliest = span[0] if span else None
        today = (
            f"The data ends on {self.catalog.data_end}; relative periods such as 'last quarter' count back "
            "from there.\n"
            if self.catalog.data_end
            else ""
        )
        self.system = render("sql", schema=self.catalog.ddl(), glossary=self.glossary.text(), today=today)

    def answer(self, question: str) -> SqlAnswer:
        split = split_by_year(question) if self.verify else None
        if split is not None and (joined := self._answer_by_year(question, split)) is not None:
            return joined
        return self._answer_whole(question)

    def _answer_by_year(self, question: str, split: YearSplit) -> SqlAnswer | None:
        """Each compared year asked on its own, and the tables joined (see :mod:`.year_comparison`);
        None when a year could not be answered or the years' tables do not line up."""
        try:
            parts = [self._answer_whole(part) for part in split.parts]
        except SqlAnswerError:
            return None
        table = join_years(split, [p.table for p in parts])
        if table is None:
            return None
        verified = all(p.verified for p in parts)
        notes = [f"asked one year at a time ({'; '.join(split.parts)}) and joined in code"]
        for year, part in zip(split.years, parts, strict=True):
            status = "verified" if part.verified else "not verified"
            notes.append(f"{year} {status}: {'; '.join(part.notes)}")
        candidates = [
            c.model_copy(update={"question": part.question}) for part in parts for c in part.candidates
        ]
        return SqlAnswer(
            question=question,
            sql="\n\n".join(f"-- {y}\n{p.sql.rstrip(';')};" for y, p in zip(split.years, parts, strict=True)),
            table=table,
            truncated=any(p.truncated for p in parts),
            verified=verified,
            notes=notes,
            candidates=candidates,
        )

    def _answer_whole(self, question: str) -> SqlAnswer:
        hints = period_hints(question, self.catalog.data_end, self._earliest)
        hint_years = sorted({str(y) for h in hints for y in (h.start.year, h.end.year)})
        asked = question.strip()
        if hints:
            asked += "\n" + "\n".join(f'("{h.phrase}" means {h.start} to {h.end}.)' for h in hints)
        notes = question_notes(question, self.catalog, self.glossary)
        if notes:
            asked += "\nNotes for this question:\n" + "\n".join(f"- {n}" for n in notes)
        # The query mostly quotes its notes (a year's bounds, a join, a measure's formula): drafted
        # from them, those stretches decode in batches.
        quotable = f"Question: {asked}"
        opening: list[BaseMessage] = [SystemMessage(self.system), HumanMessage(quotable)]
        lookup = laid_out(quotable)
        candidates: list[SqlCandidate] = []
        settled: list[BaseMessage] | None = None  # the conversation that led to the first usable query
        wanted = len(TEMPERATURES) if self.verify else 1
        failed: set[str] = set()  # the queries that failed to run or failed a check, as _query_key has them
        for variant in range(wanted):
            budget = self.max_calls - sum(c.calls for c in candidates)
            if budget <= 0:
                break
            # A later sample mostly repeats the earlier query: predicted from it, the matching
            # stretches decode in batches (the sample itself is unchanged; see ChatModel.complete).
            # It is drawn from the conversation that settled the first query, corrections included,
            # so that it answers what that query answered rather than repeating its first mistake.
            earlier = candidates[-1].reply if candidates else None
            candidate, conversation = self._candidate(
                question, settled or opening, variant, hint_years, earlier, lookup, failed, budget
            )
            candidates.append(candidate)
            if settled is None and candidate.usable:
                settled = conversation
            found = self._agreement(candidates)
            if found is not None or not self.verify or _sure(candidates):
                break
        return self._conclude(question, candidates)

    # -- one candidate -------------------------------------------------------------------
    def _candidate(
        self,
        question: str,
        messages: list[BaseMessage],
        variant: int,
        years: list[str],
        prediction: str | None,
        lookup: str,
        failed: set[str],
        budget: int,
    ) -> tuple[SqlCandidate, list[BaseMessage]]:
        """One query, corrected at most ``max_retries`` times in at most ``budget`` calls, and the
        conversation its last reply answered. A query already in ``failed`` is not corrected again:
        its correction went nowhere before. The model's queries that fail are added to ``failed``."""
        candidate = SqlCandidate(variant=variant)
        last = min(self.max_retries, budget - 1)
        for attempt in range(last + 1):
            temperature = (
                TEMPERATURES[variant] if attempt == 0 else max(TEMPERATURES[variant], RETRY_TEMPERATURE)
            )
            reply = self.model.generate(
                messages,
                max_tokens=self.max_tokens,
                temperature=temperature,
                purpose=Purpose.SQL,
                prediction=prediction,
                lookup=lookup,
                # The reply's own token probabilities tell how a verifying sample would go.
                logprobs=LOGPROB_ALTERNATIVES,
                reply_start=REPLY_START,
                stop=[_FENCE],
            )
            text = reply.text
            candidate.calls += 1
            candidate.reply = prediction = text  # a corrected query mostly repeats the one it corrects
            sql = extract_sql(text)
            key = _query_key(sql)
            if attempt > 0 and key in failed:
                break  # the model repeated a query it was asked to correct: it has no other
            candidate.repeat_chance = query_repeat_chance(reply, TEMPERATURES[1])
            candidate.sql = sql
            feedback = self._try(candidate, question, years)
            if feedback is not None:
                candidate.stuck = attempt == 0 and key in failed
                failed.add(key)
            if feedback is None or attempt == last or candidate.stuck:
                break
            # The reply as the model wrote it: the stop string cut its closing fence.
            written = text if text.rstrip().endswith(_FENCE) else f"{text.rstrip()}\n{_FENCE}"
            messages = [*messages, AIMessage(written), HumanMessage(feedback)]
        return candidate, messages

    def _try(self, candidate: SqlCandidate, question: str, years: list[str]) -> str | None:
        """Run the candidate's SQL; return feedback for the model, or None when it looks right."""
        candidate.table, candidate.error, candidate.problems, candidate.repairs = None, None, [], []
        candidate.tied = 0
        try:
            sql = self._runnable(candidate, question)
            result = self.warehouse.run_query(sql, DEFAULT_ROW_LIMIT)
        except PermissionDenied:
            raise  # the user may not read what the question needs: another query will not change that
        except AtomworkError as exc:
            candidate.error = str(exc)
            hints = "".join(f"\n{hint}" for hint in error_hints(str(exc), self.catalog))
            return f"That query failed: {exc}{hints}\nWrite a corrected query."
        candidate.table, candidate.truncated = result.table, result.truncated
        candidate.problems = check_sql_answer(
            question,
            sql,
            result.table,
            self.catalog,
            period_years=years,
            glossary=self.glossary,
            probe=warehouse_probe(self.warehouse),
        )
        candidate.table, candidate.tied = self._with_ties(sql, result.table)
        if candidate.problems:
            listed = "\n".join(f"- {p}" for p in candidate.problems)
            return f"The query ran, but it may not answer the question:\n{listed}\nWrite a corrected query."
        return None

    def _runnable(self, candidate: SqlCandidate, question: str) -> str:
        """The candidate's SQL once it passes EXPLAIN, with text values spelled as the data spells
        them ('GERMANY' for 'Germany') and without joins that only repeat the rows it sums."""
        sql = self._bound(candidate)
        for repair in (
            lambda q: value_case_repair(q, self.catalog),
            lambda q: dangling_join_repair(question, q, self.catalog),
            lambda q: count_to_sum_repair(question, q, self.catalog),
            text_date_repair,
            lambda q: unfiltered_overall_repair(question, q),
        ):
            repaired = repair(sql)
            if repaired is not None and (fixed := self._explained_or_none(repaired[0])) is not None:
                sql = candidate.sql = fixed
                candidate.repairs = [*candidate.repairs, *repaired[1]]
        return sql

    def _bound(self, candidate: SqlCandidate) -> str:
        """The candidate's SQL once it passes EXPLAIN, repaired if only a known mistake stopped it.
        Where a repair had to choose (a column two tables hold), every choice must give the same
        figures, or the model's own error stands."""
        try:
            return self._explained(candidate.sql)
        except PermissionDenied:
            raise
        except AtomworkError:
            runnable = [
                (sql, repair)
                for repair in repairs(candidate.sql, self.catalog, self.glossary)
                if (sql := self._explained_or_none(repair.sql)) is not None
            ]
            if not runnable or not self._same_results([sql for sql, _ in runnable]):
                raise  # the model's own error, which says more than a failed or ambiguous repair
            sql, repair = runnable[0]
            candidate.sql, candidate.repairs = sql, repair.changes
            return sql

    def _same_results(self, queries: list[str]) -> bool:
        if len(queries) < 2:
            return True
        try:
            tables = [self.warehouse.run_query(q, DEFAULT_ROW_LIMIT).table for q in queries]
        except AtomworkError:
            return False
        return all(results_agree(tables[0], t) for t in tables[1:])

    def _explained(self, sql: str) -> str:
        checked = self.warehouse.validate(sql)
        self.warehouse.explain(checked)
        return checked

    def _explained_or_none(self, sql: str) -> str | None:
        try:
            return self._explained(sql)
        except PermissionDenied:
            raise
        except AtomworkError:
            return None

    # -- verification --------------------------------------------------------------------
    @staticmethod
    def _agreement(candidates: Sequence[SqlCandidate]) -> tuple[SqlCandidate, SqlCandidate] | None:
        usable = [c for c in candidates if c.usable]
        for i, first in enumerate(usable):
            for second in usable[i + 1 :]:
                assert first.table is not None and second.table is not None
                if results_agree(first.table, second.table):
                    return first, second
        return None

    def _conclude(self, question: str, candidates: list[SqlCandidate]) -> SqlAnswer:
        pair = self._agreement(candidates) if self.verify else None
        if pair is not None:
            chosen = pair[0]
            notes = ["two independently sampled queries returned the same figures"]
            verified = True
        elif self.verify and _sure(candidates):
            chosen = candidates[0]
            notes = [
                f"the model's token probabilities give a {chosen.repeat_chance:.0%} chance that an "
                "independently sampled query is this same query, so none was sampled"
            ]
            verified = True
        else:
            ran = [c for c in candidates if c.table is not None]
            if not ran:
                errors = "; ".join(c.error or "no SQL" for c in candidates)
                raise SqlAnswerError(f"no query could be run for the question: {errors}")
            chosen = next((c for c in ran if c.usable), ran[0])
            verified = False
            notes = _unverified_notes(candidates, chosen, self.verify, self.max_calls)
        assert chosen.table is not None
        if chosen.repairs:
            notes.append(f"the query was repaired ({'; '.join(chosen.repairs)})")
        table, tied = chosen.table, chosen.tied
        if tied:
            notes.append(
                f"{tied} more row(s) tie with the last one shown by the query's LIMIT; all of them are listed"
            )
        return SqlAnswer(
            question=question,
            sql=chosen.sql,
            table=table,
            truncated=chosen.truncated,
            verified=verified,
            notes=notes,
            candidates=candidates,
        )

    def _with_ties(self, sql: str, table: Table) -> tuple[Table, int]:
        """``table`` and the rows past its ``ORDER BY ... LIMIT n`` cut that tie with its last row
        ("which customer placed the most orders" when three placed 32), and how many those are."""
        cut = ranking(sql)
        if cut is None or len(table.rows) != cut.limit:
            return table, 0
        try:
            wider = self.warehouse.run_query(cut.wider_sql, DEFAULT_ROW_LIMIT).table
        except AtomworkError:
            return table, 0
        names = [c.lower() for c in wider.columns]
        if cut.column.lower() not in names or len(wider.rows) < cut.limit:
            return table, 0
        at = names.index(cut.column.lower())
        last = wider.rows[cut.limit - 1][at]
        tied = [row for row in wider.rows[cut.limit :] if row[at] == last]
        if not tied or last is None:
            return table, 0
        # Rows with equal keys come in any order: the wider read lists the same ranking, ties and all.
        return Table(columns=table.columns, rows=[*wider.rows[: cut.limit], *tied]), len(tied)


def _sure(candidates: Sequence[SqlCandidate]) -> bool:
    """Whether the first query alone settles the answer: it passed every check, and a verifying
    sample of the same conversation would write it again with a chance of at least :data:`SURE`.
    Skipping that sample loses only its (at most 1 - SURE) chance of catching a confident mistake."""
    first = candidates[0]
    return (
        len(candidates) == 1
        and first.usable
        and first.repeat_chance is not None
        and first.repeat_chance >= SURE
    )


class SqlAnswerError(AtomworkError):
    """No query the model wrote could be run."""


def _unverified_notes(
    candidates: list[SqlCandidate], chosen: SqlCandidate, verify: bool, max_calls: int
) -> list[str]:
    if not verify:
        return ["verification is switched off: one query, not cross-checked"]
    notes = []
    if chosen.problems:
        notes.extend(chosen.problems)
    usable = [c for c in candidates if c.usable]
    if len(usable) >= 2:
        notes.append("independently sampled queries returned different figures")
    elif len(usable) == 1:
        notes.append("only one query passed the checks, so nothing confirmed it")
    failed = [c for c in candidates if c.table is None]
    if failed:
        notes.append("some of the queries failed to run")
    spent = sum(c.calls for c in candidates)
    if spent >= max_calls:
        notes.append(f"stopped after {spent} model calls, the most one question may take")
    return notes or ["the result could not be cross-checked"]


# -- the tool -----------------------------------------------------------------------------

ASK_TOOL = "ask_warehouse"


class AskArgs(BaseModel):
    question: str = Field(
        min_length=3, max_length=600, description="one precise business question, with its period and filters"
    )


def sql_summary(answer: SqlAnswer) -> str:
    """The answer to show: the figures first, then how far they were checked."""
    text = table_text(answer.table)
    if answer.truncated:
        text += "\n(The result has more rows than shown; ask a narrower question.)"
    status = "Verified" if answer.verified else "Not verified"
    return f"{text}\n\n{status}: {'; '.join(answer.notes)}."


def sql_tool(
    warehouse: Warehouse, *, glossary: Glossary = STANDARD, verify: bool = True, max_retries: int = 2
) -> Tool:
    """``ask_warehouse``: the SQL analyst as a tool of the shared analysis department."""
    catalogs: dict[Access | None, SchemaCatalog] = {}  # read once per user's view, on first use

    def ask_warehouse(ctx: RunContext, question: str) -> ToolResult:
        # The user's governed view: the schema the model sees and every query keep to what they may read.
        view = ctx.warehouse if ctx.has_warehouse else warehouse
        if ctx.access not in catalogs:
            catalogs[ctx.access] = SchemaCatalog.read(view)
        catalog = catalogs[ctx.access]
        analyst = SqlAnalyst(
            view, ctx.model, catalog=catalog, glossary=glossary, verify=verify, max_retries=max_retries
        )
        answer = analyst.answer(question)
        return ToolResult(
            summary=sql_summary(answer),
            table=answer.table,
            provenance=Provenance(
                sql=answer.sql,
                verified=answer.verified,
                notes=answer.notes,
                attempts=[
                    Attempt(
                        sql=c.sql,
                        table=c.table,
                        error=c.error,
                        problems=c.problems,
                        repairs=c.repairs,
                        repeat_chance=c.repeat_chance,
                        question=c.question,
                    )
                    for c in answer.candidates
                ],
            ),
        )

    return Tool(
        name=ASK_TOOL,
        department="analysis",
        description="Answer one precise question with a checked SQL query written from the live schema; "
        "use it when no other tool answers the question exactly.",
        args_model=AskArgs,
        fn=ask_warehouse,
        takes_ctx=True,
    )
