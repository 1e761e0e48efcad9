"""The bounds of the values a request may carry (core/params.py reads them), in a module of their own so
that a domain rule can use them without importing pydantic, which the API's parameter types need: a
command such as `vitreem stats --json` paid 0.15 s for it through benefits/rules.py (issue 13).

Generous for any real use, far inside what the database and the calendar hold."""

MAX_PAGE = 100_000
MAX_OFFSET = 10_000_000
MAX_ID = 2**63 - 1  # a 64-bit key: PostgreSQL's bigint, SQLite's integer
MAX_AMOUNT = 10**15  # VND: a million billion, far past any budget line
MIN_YEAR, MAX_YEAR = 1900, 2100
