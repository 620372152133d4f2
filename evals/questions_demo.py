"""Answer-accuracy questions over the seeded demo warehouse (TPC-H sf=0.01 plus HR, finance,
marketing and support tables, with planted anomalies), each with hand-written SQL for the answer.
"""

from __future__ import annotations

from atomwork.evals.cases import DatasetName, EvalCase, Expect, Level

__all__ = ["CASES"]

# Conventions, as the demo's own department tools use them (a manager reading the warehouse would too):
REVENUE_NOTE = (
    "revenue = sum(l_extendedprice * (1 - l_discount)) of orders dated in the period (o_orderdate); "
    "a sale's region is its customer's region"
)
HEADCOUNT_NOTE = "on staff at date D: hire_date <= D and (termination_date is null or termination_date > D)"
CAMPAIGN_NOTE = "campaigns belong to the period of their start_date"
TICKET_NOTE = "tickets belong to the period of their opened_at date"
LATE_NOTE = "late = l_receiptdate > l_commitdate; line items belong to the period of their l_shipdate"
LAST_QUARTER_NOTE = "last quarter = 1998-Q2, the last full quarter of the data (orders end 1998-08-02)"

# The sales star: line items -> orders -> customer -> nation -> region.
SALES = """lineitem
    JOIN orders ON l_orderkey = o_orderkey
    JOIN customer ON o_custkey = c_custkey
    JOIN nation ON c_nationkey = n_nationkey
    JOIN region ON n_regionkey = r_regionkey"""
REVENUE = "sum(l_extendedprice * (1 - l_discount))"


def _case(
    id: str,
    level: Level,
    department: str,
    expect: Expect,
    question: str,
    sql: str,
    note: str = "",
    rel_tol: float = 0.005,
) -> EvalCase:
    return EvalCase(
        id=id,
        dataset=DatasetName.DEMO,
        level=level,
        department=department,
        question=question,
        sql=sql.strip(),
        expect=expect,
        note=note,
        rel_tol=rel_tol,
    )


F, G, M = Level.FACT, Level.GROUPED, Level.MULTI
NUMBER, ENTITY, ROWS, REPORT = Expect.NUMBER, Expect.ENTITY, Expect.ROWS, Expect.REPORT

SALES_CASES = [
    _case(
        "demo-sales-01",
        F,
        "sales",
        NUMBER,
        "How many orders were placed in 1996?",
        "SELECT count(*) AS orders FROM orders "
        "WHERE o_orderdate BETWEEN DATE '1996-01-01' AND DATE '1996-12-31'",
    ),
    _case(
        "demo-sales-02",
        F,
        "sales",
        NUMBER,
        "What was our total revenue in 1997?",
        f"SELECT {REVENUE} AS revenue FROM {SALES} WHERE year(o_orderdate) = 1997",
        REVENUE_NOTE,
    ),
    _case(
        "demo-sales-03",
        F,
        "sales",
        NUMBER,
        "What was the average order value in 1995, i.e. revenue divided by the number of orders?",
        f"SELECT {REVENUE} / count(DISTINCT o_orderkey) AS avg_order_value FROM {SALES} "
        "WHERE year(o_orderdate) = 1995",
        REVENUE_NOTE,
    ),
    _case(
        "demo-sales-04",
        F,
        "sales",
        ENTITY,
        "Which region had the highest revenue in 1995?",
        f"SELECT r_name AS region, {REVENUE} AS revenue FROM {SALES} WHERE year(o_orderdate) = 1995 "
        "GROUP BY r_name ORDER BY revenue DESC LIMIT 1",
        REVENUE_NOTE,
    ),
    _case(
        "demo-sales-05",
        F,
        "sales",
        ENTITY,
        "Who was our biggest customer by revenue in 1997?",
        f"SELECT c_name AS customer, {REVENUE} AS revenue FROM {SALES} WHERE year(o_orderdate) = 1997 "
        "GROUP BY c_name ORDER BY revenue DESC LIMIT 1",
        REVENUE_NOTE,
    ),
    _case(
        "demo-sales-06",
        G,
        "sales",
        ROWS,
        "Revenue by region for 1997",
        f"SELECT r_name AS region, {REVENUE} AS revenue FROM {SALES} WHERE year(o_orderdate) = 1997 "
        "GROUP BY r_name ORDER BY revenue DESC",
        REVENUE_NOTE,
    ),
    _case(
        "demo-sales-07",
        G,
        "sales",
        ROWS,
        "Show me monthly revenue for the AFRICA region in 1996.",
        f"SELECT strftime(o_orderdate, '%Y-%m') AS month, {REVENUE} AS revenue FROM {SALES} "
        "WHERE year(o_orderdate) = 1996 AND r_name = 'AFRICA' GROUP BY month ORDER BY month",
        REVENUE_NOTE,
    ),
    _case(
        "demo-sales-08",
        G,
        "sales",
        ROWS,
        "How many different customers placed orders in each region during the first half of 1998?",
        """
        SELECT r_name AS region, count(DISTINCT o_custkey) AS customers
        FROM orders
            JOIN customer ON o_custkey = c_custkey
            JOIN nation ON c_nationkey = n_nationkey
            JOIN region ON n_regionkey = r_regionkey
        WHERE o_orderdate BETWEEN DATE '1998-01-01' AND DATE '1998-06-30'
        GROUP BY r_name ORDER BY customers DESC
        """,
    ),
    _case(
        "demo-sales-09",
        G,
        "sales",
        ROWS,
        "Who were our top 5 customers by revenue in 1996?",
        f"SELECT c_name AS customer, {REVENUE} AS revenue FROM {SALES} WHERE year(o_orderdate) = 1996 "
        "GROUP BY c_name ORDER BY revenue DESC LIMIT 5",
        REVENUE_NOTE,
    ),
    _case(
        "demo-sales-10",
        M,
        "sales",
        REPORT,
        "Flag unusual months in 1996 revenue by region and draft a short report for the sales director.",
        # The planted anomaly: AFRICA's May 1996 orders were tripled.
        f"SELECT r_name AS region, strftime(o_orderdate, '%Y-%m') AS month, {REVENUE} AS revenue "
        f"FROM {SALES} WHERE r_name = 'AFRICA' "
        "AND o_orderdate BETWEEN DATE '1996-05-01' AND DATE '1996-05-31' GROUP BY ALL",
        REVENUE_NOTE + "; the report must name AFRICA, May 1996 and its revenue (2.3x the region's median)",
    ),
    _case(
        "demo-sales-11",
        M,
        "sales",
        REPORT,
        "Compare revenue in 1996 and 1997 by region.",
        f"""
        SELECT r_name AS region,
            sum(l_extendedprice * (1 - l_discount)) FILTER (WHERE year(o_orderdate) = 1996) AS revenue_1996,
            sum(l_extendedprice * (1 - l_discount)) FILTER (WHERE year(o_orderdate) = 1997) AS revenue_1997
        FROM {SALES}
        GROUP BY r_name ORDER BY r_name
        """,
        REVENUE_NOTE,
    ),
    _case(
        "demo-sales-12",
        M,
        "sales",
        REPORT,
        "Which region grew revenue the most from 1996 to 1997, and by what percentage?",
        f"""
        WITH yearly AS (
            SELECT r_name AS region,
                sum(l_extendedprice * (1 - l_discount)) FILTER (WHERE year(o_orderdate) = 1996) AS r1996,
                sum(l_extendedprice * (1 - l_discount)) FILTER (WHERE year(o_orderdate) = 1997) AS r1997
            FROM {SALES} GROUP BY r_name
        )
        SELECT region, 100 * (r1997 / r1996 - 1) AS growth_pct FROM yearly ORDER BY growth_pct DESC LIMIT 1
        """,
        REVENUE_NOTE,
        rel_tol=0.02,
    ),
]

FINANCE_CASES = [
    _case(
        "demo-finance-01",
        F,
        "finance",
        NUMBER,
        "What were our total expenses in 1997?",
        "SELECT sum(amount) AS expenses FROM expenses WHERE year(month) = 1997",
    ),
    _case(
        "demo-finance-02",
        F,
        "finance",
        NUMBER,
        "How much did we spend on travel in 1996?",
        "SELECT sum(amount) AS travel FROM expenses WHERE category = 'Travel' AND year(month) = 1996",
    ),
    _case(
        "demo-finance-03",
        F,
        "finance",
        ENTITY,
        "Which region had the highest total expenses in 1997?",
        "SELECT region, sum(amount) AS expenses FROM expenses WHERE year(month) = 1997 "
        "GROUP BY region ORDER BY expenses DESC LIMIT 1",
    ),
    _case(
        "demo-finance-04",
        F,
        "finance",
        NUMBER,
        "What was the total revenue budget for 1997, across all regions?",
        "SELECT sum(revenue_budget) AS revenue_budget FROM budgets WHERE year(month) = 1997",
    ),
    _case(
        "demo-finance-05",
        G,
        "finance",
        ROWS,
        "Break down our 1997 expenses by category.",
        "SELECT category, sum(amount) AS amount FROM expenses WHERE year(month) = 1997 "
        "GROUP BY category ORDER BY amount DESC",
    ),
    _case(
        "demo-finance-06",
        G,
        "finance",
        ROWS,
        "What were total expenses in each month from January to June 1997?",
        "SELECT strftime(month, '%Y-%m') AS month, sum(amount) AS amount FROM expenses "
        "WHERE month BETWEEN DATE '1997-01-01' AND DATE '1997-06-01' GROUP BY ALL ORDER BY 1",
    ),
    _case(
        "demo-finance-07",
        G,
        "finance",
        ROWS,
        "How much did each department spend in 1996?",
        "SELECT department, sum(amount) AS amount FROM expenses WHERE year(month) = 1996 "
        "GROUP BY department ORDER BY amount DESC",
    ),
    _case(
        "demo-finance-08",
        G,
        "finance",
        ROWS,
        "What is the full-year 1998 revenue budget for each region?",
        "SELECT region, sum(revenue_budget) AS revenue_budget FROM budgets WHERE year(month) = 1998 "
        "GROUP BY region ORDER BY region",
    ),
    _case(
        "demo-finance-09",
        M,
        "finance",
        REPORT,
        "Review 1994 travel expenses by region and month, flag anything unusual, and summarise it "
        "for the CFO.",
        # The planted anomaly: one region-department's travel in one month is 6x normal plus 80K.
        "SELECT region, strftime(month, '%Y-%m') AS month, sum(amount) AS travel FROM expenses "
        "WHERE category = 'Travel' AND region = 'AMERICA' AND month = DATE '1994-08-01' GROUP BY ALL",
        "the report must name AMERICA, August 1994 and that month's travel spend (all departments)",
    ),
    _case(
        "demo-finance-10",
        M,
        "finance",
        REPORT,
        "Compare actual revenue with the revenue budget for each region in 1997.",
        f"""
        WITH actual AS (
            SELECT r_name AS region, {REVENUE} AS revenue FROM {SALES}
            WHERE year(o_orderdate) = 1997 GROUP BY r_name
        ), budget AS (
            SELECT region, sum(revenue_budget) AS revenue_budget FROM budgets
            WHERE year(month) = 1997 GROUP BY region
        )
        SELECT region, revenue, revenue_budget FROM actual JOIN budget USING (region) ORDER BY region
        """,
        REVENUE_NOTE + "; the budget is the sum of the region's 1997 monthly revenue budgets",
    ),
    _case(
        "demo-finance-11",
        M,
        "finance",
        REPORT,
        "How did total expenses change from 1996 to 1997? Give both totals and the percentage change.",
        """
        SELECT sum(amount) FILTER (WHERE year(month) = 1996) AS expenses_1996,
            sum(amount) FILTER (WHERE year(month) = 1997) AS expenses_1997,
            100 * (sum(amount) FILTER (WHERE year(month) = 1997)
                / sum(amount) FILTER (WHERE year(month) = 1996) - 1) AS change_pct
        FROM expenses
        """,
        rel_tol=0.02,
    ),
]

HR_CASES = [
    _case(
        "demo-hr-01",
        F,
        "hr",
        NUMBER,
        "How many employees did we have at the end of 1997?",
        "SELECT count(*) AS headcount FROM employees WHERE hire_date <= DATE '1997-12-31' "
        "AND (termination_date IS NULL OR termination_date > DATE '1997-12-31')",
        HEADCOUNT_NOTE,
    ),
    _case(
        "demo-hr-02",
        F,
        "hr",
        NUMBER,
        "How many people did we hire in 1996?",
        "SELECT count(*) AS hires FROM employees WHERE year(hire_date) = 1996",
    ),
    _case(
        "demo-hr-03",
        F,
        "hr",
        NUMBER,
        "How many employees left the company in 1997?",
        "SELECT count(*) AS leavers FROM employees WHERE year(termination_date) = 1997",
    ),
    _case(
        "demo-hr-04",
        F,
        "hr",
        ENTITY,
        "Which department lost the most employees in 1997?",
        "SELECT department, count(*) AS leavers FROM employees WHERE year(termination_date) = 1997 "
        "GROUP BY department ORDER BY leavers DESC LIMIT 1",
    ),
    _case(
        "demo-hr-05",
        F,
        "hr",
        NUMBER,
        "What was the average salary of the employees on staff at the end of June 1998?",
        "SELECT avg(salary) AS avg_salary FROM employees WHERE hire_date <= DATE '1998-06-30' "
        "AND (termination_date IS NULL OR termination_date > DATE '1998-06-30')",
        HEADCOUNT_NOTE,
    ),
    _case(
        "demo-hr-06",
        G,
        "hr",
        ROWS,
        "Headcount per department at the end of 1997",
        "SELECT department, count(*) AS headcount FROM employees WHERE hire_date <= DATE '1997-12-31' "
        "AND (termination_date IS NULL OR termination_date > DATE '1997-12-31') "
        "GROUP BY department ORDER BY headcount DESC",
        HEADCOUNT_NOTE,
    ),
    _case(
        "demo-hr-07",
        G,
        "hr",
        ROWS,
        "How many people did we hire in each region in 1997?",
        "SELECT region, count(*) AS hires FROM employees WHERE year(hire_date) = 1997 "
        "GROUP BY region ORDER BY hires DESC",
    ),
    _case(
        "demo-hr-08",
        G,
        "hr",
        ROWS,
        "What was the average salary in each department for people on staff at the end of 1997?",
        "SELECT department, avg(salary) AS avg_salary FROM employees WHERE hire_date <= DATE '1997-12-31' "
        "AND (termination_date IS NULL OR termination_date > DATE '1997-12-31') "
        "GROUP BY department ORDER BY avg_salary DESC",
        HEADCOUNT_NOTE,
    ),
    _case(
        "demo-hr-09",
        G,
        "hr",
        ROWS,
        "How many employees left in each quarter of 1997?",
        "SELECT year(termination_date) || '-Q' || quarter(termination_date) AS quarter, count(*) AS leavers "
        "FROM employees WHERE year(termination_date) = 1997 GROUP BY ALL ORDER BY 1",
    ),
    _case(
        "demo-hr-10",
        M,
        "hr",
        REPORT,
        "Look at 1997 departures by department and quarter, flag any unusual spike, "
        "and write a short note for HR leadership.",
        # The planted reorganisation: one department's exits are ten times the usual rate for a quarter.
        "SELECT department, '1997-Q3' AS quarter, count(*) AS leavers FROM employees "
        "WHERE department = 'Operations' "
        "AND termination_date BETWEEN DATE '1997-07-01' AND DATE '1997-09-30' GROUP BY department",
        "the note must name Operations, Q3 1997 and its number of leavers",
    ),
    _case(
        "demo-hr-11",
        M,
        "hr",
        REPORT,
        "Compare hiring and departures in 1996 with 1997.",
        """
        SELECT year::VARCHAR AS year,
            (SELECT count(*) FROM employees WHERE year(hire_date) = year) AS hires,
            (SELECT count(*) FROM employees WHERE year(termination_date) = year) AS leavers
        FROM (VALUES (1996), (1997)) AS years(year)
        ORDER BY year
        """,
    ),
    _case(
        "demo-hr-12",
        M,
        "hr",
        NUMBER,
        "What was our attrition rate in 1997, i.e. departures as a percentage of the average of the "
        "headcount at the start and at the end of the year?",
        """
        WITH counts AS (
            SELECT
                count(*) FILTER (WHERE hire_date < DATE '1997-01-01'
                    AND (termination_date IS NULL OR termination_date >= DATE '1997-01-01')) AS at_start,
                count(*) FILTER (WHERE hire_date <= DATE '1997-12-31'
                    AND (termination_date IS NULL OR termination_date > DATE '1997-12-31')) AS at_end,
                count(*) FILTER (WHERE year(termination_date) = 1997) AS leavers
            FROM employees
        )
        SELECT 100 * leavers / ((at_start + at_end) / 2) AS attrition_pct FROM counts
        """,
        "start headcount = on staff on 1997-01-01, end headcount = on staff on 1997-12-31",
        rel_tol=0.01,
    ),
]

MARKETING_CASES = [
    _case(
        "demo-marketing-01",
        F,
        "marketing",
        NUMBER,
        "How much did we spend on marketing campaigns that started in 1997?",
        "SELECT sum(spend) AS spend FROM campaigns WHERE year(start_date) = 1997",
        CAMPAIGN_NOTE,
    ),
    _case(
        "demo-marketing-02",
        F,
        "marketing",
        NUMBER,
        "How many conversions did the campaigns launched in 1996 bring in?",
        "SELECT sum(conversions) AS conversions FROM campaigns WHERE year(start_date) = 1996",
        CAMPAIGN_NOTE,
    ),
    _case(
        "demo-marketing-03",
        F,
        "marketing",
        ENTITY,
        "Which marketing channel had the lowest cost per conversion in 1997?",
        "SELECT channel, sum(spend) / sum(conversions) AS cost_per_conversion FROM campaigns "
        "WHERE year(start_date) = 1997 GROUP BY channel ORDER BY cost_per_conversion LIMIT 1",
        CAMPAIGN_NOTE + "; cost per conversion = total spend / total conversions",
    ),
    _case(
        "demo-marketing-04",
        F,
        "marketing",
        NUMBER,
        "How many campaigns did we launch in 1995?",
        "SELECT count(*) AS campaigns FROM campaigns WHERE year(start_date) = 1995",
        CAMPAIGN_NOTE,
    ),
    _case(
        "demo-marketing-05",
        F,
        "marketing",
        NUMBER,
        "What percentage of leads converted for campaigns launched in 1997?",
        "SELECT 100 * sum(conversions) / sum(leads) AS conversion_pct FROM campaigns "
        "WHERE year(start_date) = 1997",
        CAMPAIGN_NOTE,
        rel_tol=0.01,
    ),
    _case(
        "demo-marketing-06",
        G,
        "marketing",
        ROWS,
        "Campaign spend by channel for campaigns launched in 1997",
        "SELECT channel, sum(spend) AS spend FROM campaigns WHERE year(start_date) = 1997 "
        "GROUP BY channel ORDER BY spend DESC",
        CAMPAIGN_NOTE,
    ),
    _case(
        "demo-marketing-07",
        G,
        "marketing",
        ROWS,
        "How many leads did each region get from campaigns launched in 1996?",
        "SELECT region, sum(leads) AS leads FROM campaigns WHERE year(start_date) = 1996 "
        "GROUP BY region ORDER BY leads DESC",
        CAMPAIGN_NOTE,
    ),
    _case(
        "demo-marketing-08",
        G,
        "marketing",
        ROWS,
        "What was the cost per lead for each channel in 1995?",
        "SELECT channel, sum(spend) / sum(leads) AS cost_per_lead FROM campaigns "
        "WHERE year(start_date) = 1995 GROUP BY channel ORDER BY cost_per_lead",
        CAMPAIGN_NOTE + "; cost per lead = total spend / total leads",
    ),
    _case(
        "demo-marketing-09",
        G,
        "marketing",
        ROWS,
        "Conversions by region for campaigns launched in 1997",
        "SELECT region, sum(conversions) AS conversions FROM campaigns WHERE year(start_date) = 1997 "
        "GROUP BY region ORDER BY conversions DESC",
        CAMPAIGN_NOTE,
    ),
    _case(
        "demo-marketing-10",
        M,
        "marketing",
        REPORT,
        "Find the least efficient campaign launched in 1997 (highest cost per conversion) and explain "
        "why it stands out.",
        # The planted dud: a campaign whose spend was inflated and that converted almost no one.
        "SELECT name, spend, conversions FROM campaigns WHERE year(start_date) = 1997 "
        "ORDER BY spend / conversions DESC LIMIT 1",
        CAMPAIGN_NOTE + "; the answer must name the campaign and give its spend and conversions",
    ),
    _case(
        "demo-marketing-11",
        M,
        "marketing",
        REPORT,
        "Compare total campaign spend and conversions between 1996 and 1997.",
        "SELECT year(start_date)::VARCHAR AS year, sum(spend) AS spend, sum(conversions) AS conversions "
        "FROM campaigns WHERE year(start_date) IN (1996, 1997) GROUP BY ALL ORDER BY year",
        CAMPAIGN_NOTE,
    ),
    _case(
        "demo-marketing-12",
        M,
        "marketing",
        REPORT,
        "Rank our marketing channels by cost per conversion for 1997 campaigns and recommend "
        "where to shift budget.",
        "SELECT channel, sum(spend) / sum(conversions) AS cost_per_conversion FROM campaigns "
        "WHERE year(start_date) = 1997 GROUP BY channel ORDER BY cost_per_conversion",
        CAMPAIGN_NOTE + "; cost per conversion = total spend / total conversions",
    ),
]

SUPPORT_CASES = [
    _case(
        "demo-support-01",
        F,
        "support",
        NUMBER,
        "How many support tickets were opened in 1997?",
        "SELECT count(*) AS tickets FROM support_tickets WHERE year(opened_at) = 1997",
        TICKET_NOTE,
    ),
    _case(
        "demo-support-02",
        F,
        "support",
        NUMBER,
        "What was the average customer satisfaction (CSAT) score for tickets opened in 1996?",
        "SELECT avg(csat) AS avg_csat FROM support_tickets WHERE year(opened_at) = 1996",
        TICKET_NOTE + "; the average is over rated tickets (csat not null)",
    ),
    _case(
        "demo-support-03",
        F,
        "support",
        NUMBER,
        "On average, how many hours did it take to resolve the tickets opened in 1997?",
        "SELECT avg(epoch(closed_at - opened_at) / 3600) AS avg_hours FROM support_tickets "
        "WHERE year(opened_at) = 1997 AND closed_at IS NOT NULL",
        TICKET_NOTE + "; over closed tickets",
        rel_tol=0.01,
    ),
    _case(
        "demo-support-04",
        F,
        "support",
        ENTITY,
        "Which ticket category had the most tickets in 1996?",
        "SELECT category, count(*) AS tickets FROM support_tickets WHERE year(opened_at) = 1996 "
        "GROUP BY category ORDER BY tickets DESC LIMIT 1",
        TICKET_NOTE,
    ),
    _case(
        "demo-support-05",
        F,
        "support",
        NUMBER,
        "How many urgent tickets were opened in 1997?",
        "SELECT count(*) AS tickets FROM support_tickets "
        "WHERE year(opened_at) = 1997 AND priority = 'urgent'",
        TICKET_NOTE,
    ),
    _case(
        "demo-support-06",
        G,
        "support",
        ROWS,
        "Support tickets by priority last quarter",
        "SELECT priority, count(*) AS tickets FROM support_tickets "
        "WHERE opened_at >= TIMESTAMP '1998-04-01' AND opened_at < TIMESTAMP '1998-07-01' "
        "GROUP BY priority ORDER BY tickets DESC",
        TICKET_NOTE + "; " + LAST_QUARTER_NOTE,
    ),
    _case(
        "demo-support-07",
        G,
        "support",
        ROWS,
        "How many tickets did each region raise in 1997?",
        "SELECT region, count(*) AS tickets FROM support_tickets WHERE year(opened_at) = 1997 "
        "GROUP BY region ORDER BY tickets DESC",
        TICKET_NOTE,
    ),
    _case(
        "demo-support-08",
        G,
        "support",
        ROWS,
        "Average CSAT by ticket category for 1997",
        "SELECT category, avg(csat) AS avg_csat FROM support_tickets WHERE year(opened_at) = 1997 "
        "GROUP BY category ORDER BY avg_csat",
        TICKET_NOTE + "; the average is over rated tickets",
        rel_tol=0.01,
    ),
    _case(
        "demo-support-09",
        G,
        "support",
        ROWS,
        "Number of support tickets opened per month in the first half of 1998",
        "SELECT strftime(opened_at, '%Y-%m') AS month, count(*) AS tickets FROM support_tickets "
        "WHERE opened_at >= TIMESTAMP '1998-01-01' AND opened_at < TIMESTAMP '1998-07-01' "
        "GROUP BY ALL ORDER BY 1",
        TICKET_NOTE,
    ),
    _case(
        "demo-support-10",
        M,
        "support",
        REPORT,
        "Look at monthly ticket volumes by region in 1997, flag any unusual spikes, and brief the head "
        "of support.",
        # The planted billing incident: one region's tickets jump for one month.
        "SELECT region, strftime(opened_at, '%Y-%m') AS month, count(*) AS tickets FROM support_tickets "
        "WHERE region = 'EUROPE' AND opened_at >= TIMESTAMP '1997-06-01' AND opened_at < TIMESTAMP "
        "'1997-07-01' GROUP BY ALL",
        TICKET_NOTE + "; the brief must name EUROPE, June 1997 and its ticket count",
    ),
    _case(
        "demo-support-11",
        M,
        "support",
        REPORT,
        "Compare the number of tickets in each category between 1996 and 1997.",
        "SELECT category, count(*) FILTER (WHERE year(opened_at) = 1996) AS tickets_1996, "
        "count(*) FILTER (WHERE year(opened_at) = 1997) AS tickets_1997 FROM support_tickets "
        "GROUP BY category ORDER BY category",
        TICKET_NOTE,
    ),
    _case(
        "demo-support-12",
        M,
        "support",
        REPORT,
        "What share of the tickets opened in 1997 were urgent, and how many hours did urgent tickets "
        "take to resolve on average?",
        """
        SELECT 100 * count(*) FILTER (WHERE priority = 'urgent') / count(*) AS urgent_pct,
            avg(epoch(closed_at - opened_at) / 3600) FILTER (WHERE priority = 'urgent') AS urgent_avg_hours
        FROM support_tickets WHERE year(opened_at) = 1997
        """,
        TICKET_NOTE + "; resolution hours over closed urgent tickets",
        rel_tol=0.015,
    ),
]

OPERATIONS_CASES = [
    _case(
        "demo-operations-01",
        F,
        "operations",
        NUMBER,
        "How many line items shipped in 1997?",
        "SELECT count(*) AS shipments FROM lineitem WHERE year(l_shipdate) = 1997",
        LATE_NOTE,
    ),
    _case(
        "demo-operations-02",
        F,
        "operations",
        NUMBER,
        "What percentage of the line items shipped in 1996 arrived after their committed date?",
        "SELECT 100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END) AS late_pct "
        "FROM lineitem WHERE year(l_shipdate) = 1996",
        LATE_NOTE,
    ),
    _case(
        "demo-operations-03",
        F,
        "operations",
        ENTITY,
        "Which ship mode had the highest late-delivery rate in 1997?",
        "SELECT l_shipmode AS ship_mode, 100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END) "
        "AS late_pct FROM lineitem WHERE year(l_shipdate) = 1997 GROUP BY l_shipmode "
        "ORDER BY late_pct DESC LIMIT 1",
        LATE_NOTE,
    ),
    _case(
        "demo-operations-04",
        F,
        "operations",
        NUMBER,
        "On average, how many days passed between shipping and receipt for items shipped in 1997?",
        "SELECT avg(l_receiptdate - l_shipdate) AS transit_days FROM lineitem WHERE year(l_shipdate) = 1997",
        LATE_NOTE,
        rel_tol=0.01,
    ),
    _case(
        "demo-operations-05",
        F,
        "operations",
        ENTITY,
        "Which supplier had the longest average time from order to receipt for items shipped in 1997?",
        # The planted slow supplier: its 1997 receipts were pushed back 25 days.
        "SELECT s_name AS supplier, avg(l_receiptdate - o_orderdate) AS lead_days "
        "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN supplier ON l_suppkey = s_suppkey "
        "WHERE year(l_shipdate) = 1997 GROUP BY s_name ORDER BY lead_days DESC LIMIT 1",
        LATE_NOTE + "; order-to-receipt = l_receiptdate - o_orderdate",
    ),
    _case(
        "demo-operations-06",
        G,
        "operations",
        ROWS,
        "Late-delivery rate by ship mode for items shipped in 1996",
        "SELECT l_shipmode AS ship_mode, 100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END) "
        "AS late_pct FROM lineitem WHERE year(l_shipdate) = 1996 GROUP BY l_shipmode ORDER BY late_pct DESC",
        LATE_NOTE,
    ),
    _case(
        "demo-operations-07",
        G,
        "operations",
        ROWS,
        "How many line items were shipped to customers in each region in 1995?",
        f"SELECT r_name AS region, count(*) AS shipments FROM {SALES} WHERE year(l_shipdate) = 1995 "
        "GROUP BY r_name ORDER BY shipments DESC",
        LATE_NOTE + "; region = the customer's region",
    ),
    _case(
        "demo-operations-08",
        G,
        "operations",
        ROWS,
        "Average transit time in days (ship to receipt) by ship mode for 1997 shipments",
        "SELECT l_shipmode AS ship_mode, avg(l_receiptdate - l_shipdate) AS transit_days FROM lineitem "
        "WHERE year(l_shipdate) = 1997 GROUP BY l_shipmode ORDER BY transit_days DESC",
        LATE_NOTE,
        rel_tol=0.01,
    ),
    _case(
        "demo-operations-09",
        G,
        "operations",
        ROWS,
        "How many late line items did each region have in 1997?",
        f"SELECT r_name AS region, count(*) AS late_items FROM {SALES} WHERE year(l_shipdate) = 1997 "
        "AND l_receiptdate > l_commitdate GROUP BY r_name ORDER BY late_items DESC",
        LATE_NOTE + "; region = the customer's region",
    ),
    _case(
        "demo-operations-10",
        M,
        "operations",
        REPORT,
        "Identify suppliers with unusually long order-to-receipt times in 1997 and write a short report "
        "for the operations manager.",
        "SELECT s_name AS supplier, avg(l_receiptdate - o_orderdate) AS lead_days "
        "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN supplier ON l_suppkey = s_suppkey "
        "WHERE year(l_shipdate) = 1997 AND s_suppkey = 25 GROUP BY s_name",
        LATE_NOTE + "; the report must name Supplier#000000025 and its average order-to-receipt days",
        rel_tol=0.01,
    ),
    _case(
        "demo-operations-11",
        M,
        "operations",
        REPORT,
        "Compare on-time delivery in 1996 and 1997: what share of line items arrived after the "
        "committed date in each year?",
        "SELECT year(l_shipdate)::VARCHAR AS year, "
        "100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END) AS late_pct "
        "FROM lineitem WHERE year(l_shipdate) IN (1996, 1997) GROUP BY ALL ORDER BY year",
        LATE_NOTE,
    ),
    _case(
        "demo-operations-12",
        M,
        "operations",
        REPORT,
        "Which region had the worst late-delivery rate in 1997, and how does it compare with the "
        "overall rate?",
        f"""
        WITH per_region AS (
            SELECT r_name AS region,
                100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END) AS late_pct
            FROM {SALES} WHERE year(l_shipdate) = 1997 GROUP BY r_name
        )
        SELECT region, late_pct,
            (SELECT 100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END)
             FROM lineitem WHERE year(l_shipdate) = 1997) AS overall_late_pct
        FROM per_region ORDER BY late_pct DESC LIMIT 1
        """,
        LATE_NOTE + "; region = the customer's region",
    ),
]

# Written after the checks of stop 16, as questions the set lacked; the checks of stop 17 came from
# the wrong answers they got.
LATER_CASES: list[EvalCase] = [
    _case(
        "demo-marketing-13",
        F,
        "marketing",
        NUMBER,
        "What was the total spend of social campaigns that started in 1996?",
        "SELECT sum(spend) FROM campaigns WHERE channel = 'social' AND start_date >= DATE "
        "'1996-01-01' AND start_date < DATE '1997-01-01'",
    ),
    _case(
        "demo-hr-13",
        F,
        "hr",
        NUMBER,
        "How many employees were hired into the Support department in 1995?",
        "SELECT count(*) FROM employees WHERE department = 'Support' AND hire_date >= DATE "
        "'1995-01-01' AND hire_date < DATE '1996-01-01'",
    ),
    _case(
        "demo-hr-14",
        F,
        "hr",
        NUMBER,
        "What is the highest salary in the Finance department?",
        "SELECT max(salary) FROM employees WHERE department = 'Finance'",
    ),
    _case(
        "demo-support-13",
        F,
        "support",
        NUMBER,
        "How many urgent support tickets were opened in 1997?",
        "SELECT count(*) FROM support_tickets WHERE priority = 'urgent' AND opened_at >= TIMESTAMP "
        "'1997-01-01' AND opened_at < TIMESTAMP '1998-01-01'",
    ),
    _case(
        "demo-support-14",
        G,
        "support",
        ROWS,
        "What is the average CSAT score for each ticket category?",
        "SELECT category, avg(csat) a FROM support_tickets GROUP BY category ORDER BY category",
    ),
    _case(
        "demo-finance-12",
        F,
        "finance",
        NUMBER,
        "What were the total Travel expenses in 1994?",
        "SELECT sum(amount) FROM expenses WHERE category = 'Travel' AND month >= DATE '1994-01-01' "
        "AND month < DATE '1995-01-01'",
    ),
    _case(
        "demo-finance-13",
        F,
        "finance",
        NUMBER,
        "What was the total revenue budget for ASIA in 1997?",
        "SELECT sum(revenue_budget) FROM budgets WHERE region = 'ASIA' AND month >= DATE "
        "'1997-01-01' AND month < DATE '1998-01-01'",
    ),
    _case(
        "demo-marketing-14",
        F,
        "marketing",
        NUMBER,
        "How many leads did email campaigns that started in 1995 generate?",
        "SELECT sum(leads) FROM campaigns WHERE channel = 'email' AND start_date >= DATE "
        "'1995-01-01' AND start_date < DATE '1996-01-01'",
    ),
]

CASES: list[EvalCase] = [
    *SALES_CASES,
    *FINANCE_CASES,
    *HR_CASES,
    *MARKETING_CASES,
    *SUPPORT_CASES,
    *OPERATIONS_CASES,
    *LATER_CASES,
]
