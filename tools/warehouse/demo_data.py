"""The generated business tables of the demo warehouse: employees, campaigns, expenses, budgets and
support tickets, plus the anomalies planted in them (and in TPC-H) for the tools to find.

Deterministic for a given ``random.Random``; :mod:`.seed` loads the rows.
"""

from __future__ import annotations

import calendar
import math
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb

__all__ = [
    "add_months_start",
    "budget_rows",
    "campaign_rows",
    "employee_rows",
    "expense_rows",
    "month_end",
    "month_starts",
    "plant_sales_anomalies",
    "ticket_rows",
]

_DEPARTMENTS = ("Sales", "Finance", "HR", "Marketing", "Support", "Operations")
_DEPT_SHARE = {"Sales": 0.3, "Finance": 0.1, "HR": 0.08, "Marketing": 0.1, "Support": 0.22, "Operations": 0.2}
_BASE_SALARY = {
    "Sales": 62000,
    "Finance": 70000,
    "HR": 58000,
    "Marketing": 64000,
    "Support": 45000,
    "Operations": 52000,
}
_REGION_PAY = {"AMERICA": 1.15, "EUROPE": 1.1, "ASIA": 0.85, "AFRICA": 0.7, "MIDDLE EAST": 0.95}
_FIRST = (  # noqa: SIM905 (a word list is easier to read than a literal list)
    "Ada Alan Amir Ana Bea Ben Carla Chen Dana Dev Elif Emil Eva Femi Gus Hana Ivan Jada Jon Kai "
    "Kemal Lara Leo Li Lina Marco Maya Nia Noor Omar Olga Pia Raj Rosa Sam Sara Tao Uma Vik Wen "
    "Yara Zoe"
).split()
_LAST = (  # noqa: SIM905 (a word list is easier to read than a literal list)
    "Abara Berg Costa Dubois Eze Fischer Garcia Haddad Ito Jensen Kim Kowalski Lopez Mensah Meyer "
    "Nakamura Novak Okafor Patel Quinn Rossi Sato Silva Singh Tanaka Usman Varga Wang Weber Xu "
    "Yilmaz Zhou"
).split()
_CHANNELS = ("email", "search", "social", "display", "events")
_CHANNEL_CPL = {"email": 40.0, "search": 60.0, "social": 50.0, "display": 90.0, "events": 150.0}
_CHANNEL_CVR = {"email": 0.05, "search": 0.08, "social": 0.04, "display": 0.02, "events": 0.10}
_TICKET_CATEGORIES = ("delivery", "billing", "product", "account", "returns")
_PRIORITIES = ("low", "medium", "high", "urgent")
_RESOLUTION_HOURS = {"low": 72.0, "medium": 36.0, "high": 12.0, "urgent": 4.0}


def month_starts(first: date, last: date) -> list[date]:
    months = []
    current = first.replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def add_months_start(first_month: date, count: int) -> date:
    index = first_month.year * 12 + first_month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def plant_sales_anomalies(con: duckdb.DuckDBPyConnection, rng: random.Random, regions: list[str]) -> None:
    """One region has an exceptional revenue month; one supplier ships slowly for a year."""
    region = rng.choice(regions)
    month = date(rng.choice([1994, 1995, 1996, 1997]), rng.randint(1, 12), 1)
    affected = (
        "SELECT o_orderkey FROM orders JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "WHERE r_name = ? AND date_trunc('month', o_orderdate) = ?"
    )
    factor = 3.0
    con.execute(
        f"UPDATE lineitem SET l_extendedprice = round(l_extendedprice * {factor}, 2) "
        f"WHERE l_orderkey IN ({affected})",
        [region, month],
    )
    con.execute(
        f"UPDATE orders SET o_totalprice = round(o_totalprice * {factor}, 2) WHERE o_orderkey IN "
        f"({affected})",
        [region, month],
    )
    suppliers = [r[0] for r in con.execute("SELECT s_suppkey FROM supplier ORDER BY s_suppkey").fetchall()]
    slow = rng.choice(suppliers)
    con.execute(
        "UPDATE lineitem SET l_receiptdate = l_receiptdate + 25 WHERE l_suppkey = ? AND year(l_shipdate) = ?",
        [slow, rng.choice([1996, 1997])],
    )


def employee_rows(rng: random.Random, regions: list[str], months: list[date]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    active: list[list[Any]] = []
    wave_dept = rng.choice(["Support", "Sales", "Operations"])  # a reorganisation: one quarter of exits
    wave_start = date(rng.choice([1996, 1997]), rng.choice([1, 4, 7, 10]), 1)
    wave_months = {(wave_start + timedelta(days=31 * k)).replace(day=1) for k in range(3)}
    depts = list(_DEPT_SHARE)
    weights = list(_DEPT_SHARE.values())

    def hire(on: date) -> list[Any]:
        dept = rng.choices(depts, weights)[0]
        region = rng.choice(regions)
        salary = _BASE_SALARY[dept] * _REGION_PAY.get(region, 1.0) * math.exp(rng.gauss(0, 0.15))
        row: list[Any] = [
            len(rows) + 1,
            f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            dept,
            region,
            on,
            None,
            round(salary, -2),
        ]
        rows.append(row)
        return row

    start = months[0]
    for _ in range(300):
        active.append(hire(start - timedelta(days=rng.randint(30, 6 * 365))))
    for month in months:
        days = month_end(month).day
        leaving = []
        for emp in active:
            hazard = 0.011 * (10 if (month in wave_months and emp[2] == wave_dept) else 1)
            if rng.random() < hazard:
                emp[5] = month + timedelta(days=rng.randrange(days))
                leaving.append(emp)
        for emp in leaving:
            active.remove(emp)
        expected = len(active) * 0.0155
        for _ in range(max(0, round(rng.gauss(expected, math.sqrt(expected))))):
            active.append(hire(month + timedelta(days=rng.randrange(days))))
    return rows


def campaign_rows(rng: random.Random, regions: list[str], months: list[date], last: date) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for month in months:
        for region in regions:
            for _ in range(1 + (rng.random() < 0.5)):
                start = month + timedelta(days=rng.randrange(month_end(month).day))
                if start > last:
                    continue
                channel = rng.choices(_CHANNELS, [3, 3, 2, 2, 1])[0]
                spend = rng.uniform(5000, 50000)
                leads = round(spend / (_CHANNEL_CPL[channel] * math.exp(rng.gauss(0, 0.25))))
                conversions = round(leads * _CHANNEL_CVR[channel] * math.exp(rng.gauss(0, 0.25)))
                end = start + timedelta(days=rng.randint(14, 60))
                rows.append([0, "", channel, region, start, end, round(spend, 2), leads, conversions])
    rows.sort(key=lambda r: (r[4], r[3], r[2]))
    for number, row in enumerate(rows, start=1):
        row[0] = number
        row[1] = f"{row[4]:%b %Y} {row[3].title()} {row[2]}"
    # One campaign burns a lot of money for almost nothing.
    dud = rng.choice([r for r in rows if 1995 <= r[4].year <= 1997])
    dud[6] = round(dud[6] * 4 + 60000, 2)
    dud[8] = rng.randint(1, 3)
    return rows


def expense_rows(
    rng: random.Random,
    regions: list[str],
    months: list[date],
    employees: list[list[Any]],
    campaigns: list[list[Any]],
) -> list[list[Any]]:
    spike = (rng.choice(months[24:-6]), rng.choice(regions), rng.choice(list(_DEPARTMENTS)))
    advertising: dict[tuple[date, str], float] = defaultdict(float)
    for camp in campaigns:
        advertising[(camp[4].replace(day=1), camp[3])] += camp[6]
    rows: list[list[Any]] = []
    for month in months:
        end = month_end(month)
        payroll: dict[tuple[str, str], float] = defaultdict(float)
        heads: dict[tuple[str, str], int] = defaultdict(int)
        for emp in employees:
            if emp[4] <= end and (emp[5] is None or emp[5] >= month):
                payroll[(emp[3], emp[2])] += emp[6] / 12
                heads[(emp[3], emp[2])] += 1
        for region in regions:
            for dept in _DEPARTMENTS:
                n = heads[(region, dept)]
                travel = n * (500 if dept == "Sales" else 200) * rng.uniform(0.8, 1.2)
                if (month, region, dept) == spike:
                    travel = travel * 6 + 80000
                amounts = {
                    "Payroll": payroll[(region, dept)],
                    "Travel": travel,
                    "Software": n * 120 * rng.uniform(0.9, 1.1),
                    "Facilities": n * 400 * rng.uniform(0.95, 1.05),
                }
                if dept == "Marketing":
                    amounts["Advertising"] = advertising[(month, region)]
                for category, amount in amounts.items():
                    rows.append([month, region, dept, category, round(amount, 2)])
    return rows


def budget_rows(
    rng: random.Random,
    regions: list[str],
    first: date,
    base_revenue: dict[tuple[str, int], float],
    expenses: list[list[Any]],
) -> list[list[Any]]:
    monthly_cost: dict[tuple[str, int], float] = defaultdict(float)
    month_count: dict[tuple[str, int], set[date]] = defaultdict(set)
    for month, region, _dept, _cat, amount in expenses:
        monthly_cost[(region, month.year)] += amount
        month_count[(region, month.year)].add(month)
    years = sorted({y for _, y in base_revenue})
    rows: list[list[Any]] = []
    for year in years:
        basis = year - 1 if year - 1 in years else year
        for region in regions:
            revenue_basis = base_revenue.get((region, basis), 0.0)
            cost_months = len(month_count[(region, basis)]) or 1
            cost_basis = monthly_cost[(region, basis)] / cost_months
            for month_no in range(1, 13):
                month = date(year, month_no, 1)
                if month < first.replace(day=1):
                    continue
                rows.append(
                    [
                        month,
                        region,
                        round(revenue_basis * 1.04 * rng.uniform(0.97, 1.03), 2),
                        round(cost_basis * 1.03 * rng.uniform(0.98, 1.02), 2),
                    ]
                )
    return rows


def ticket_rows(
    con: duckdb.DuckDBPyConnection, rng: random.Random, regions: list[str], months: list[date], last: date
) -> list[list[Any]]:
    n_orders = int((con.execute("SELECT count(*) FROM orders").fetchone() or (0,))[0])
    step = max(1, math.ceil(n_orders / 60000))  # bound Python work at large scale factors
    orders = con.execute(
        "SELECT o_orderkey, o_custkey, o_orderdate, r_name, max(l_receiptdate), "
        "avg(CASE WHEN l_receiptdate > l_commitdate THEN 1.0 ELSE 0.0 END) "
        "FROM orders JOIN lineitem ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "WHERE o_orderkey % ? = 0 GROUP BY ALL ORDER BY o_orderkey",
        [step],
    ).fetchall()
    end = datetime.combine(last, time(23, 59))
    # The helpdesk went live once deliveries were flowing, so ticket volume has no ramp-up.
    live = datetime.combine(add_months_start(first_month=months[0], count=5), time())
    raw: list[list[Any]] = []

    def ticket(
        opened: datetime, region: str, customer: int, category: str, priority: str, slow: float
    ) -> None:
        if opened > end or opened < live:
            return
        hours = _RESOLUTION_HOURS[priority] * slow * math.exp(rng.gauss(0, 0.6))
        closed = opened + timedelta(hours=hours)
        csat: int | None = None
        if closed > end:
            closed_value: datetime | None = None
        else:
            closed_value = closed.replace(microsecond=0)
            score = (
                5.2
                - 0.55 * math.log10(1 + hours)
                - (0.6 if category == "delivery" else 0)
                + rng.gauss(0, 0.7)
            )
            csat = max(1, min(5, round(score)))
        raw.append([opened.replace(microsecond=0), closed_value, region, customer, category, priority, csat])

    for _key, customer, ordered, region, receipt, late_share in orders:
        late = float(late_share)
        if rng.random() >= 0.1 + 0.25 * late:
            continue
        delivery = rng.random() < 0.25 + 0.5 * late
        category = "delivery" if delivery else rng.choice(_TICKET_CATEGORIES[1:])
        anchor = receipt if delivery else ordered + timedelta(days=rng.randint(1, 60))
        opened = datetime.combine(anchor, time()) + timedelta(minutes=rng.randrange(5 * 24 * 60))
        priority = rng.choices(_PRIORITIES, [35, 40, 18, 7])[0]
        ticket(opened, region, customer, category, priority, 1.0)

    # A billing incident: one region's tickets triple for a month.
    spike_region = rng.choice(regions)
    spike_month = rng.choice([m for m in months if 1995 <= m.year <= 1997])
    customers = [
        r[0]
        for r in con.execute(
            "SELECT c_custkey FROM customer JOIN nation ON c_nationkey = n_nationkey "
            "JOIN region ON n_regionkey = r_regionkey WHERE r_name = ? ORDER BY c_custkey",
            [spike_region],
        ).fetchall()
    ]
    typical = len(raw) / max(1, len(months) * len(regions))
    for _ in range(round(4 * typical)):
        opened = datetime.combine(spike_month, time()) + timedelta(
            minutes=rng.randrange(month_end(spike_month).day * 24 * 60)
        )
        priority = rng.choices(_PRIORITIES, [10, 30, 40, 20])[0]
        ticket(opened, spike_region, rng.choice(customers), "billing", priority, 2.5)

    raw.sort(key=lambda r: (r[0], r[2], r[3]))
    return [[number, *row] for number, row in enumerate(raw, start=1)]
