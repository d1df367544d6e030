"""The same standard cleaning for both peers (Splink, GoldenMatch), in DuckDB SQL.

Lowercase, trim and strip accents; a full name (sources that have no split name) becomes
its first and last token; phone = its last 10 digits; e-mail lowercased and trimmed. No
transliteration, nicknames or name-order detection: that is what a user of a general
tool writes in an afternoon, and what the trivial rule also does to phones and e-mails.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

__all__ = ["DUCKDB_MEMORY_LIMIT", "FEBRL_COLUMNS", "connect", "load_prepared"]

# DuckDB's default is 80% of RAM (19 GB here), which Splink reached at 1M records on a
# machine shared with other work; above this it spills to disk beside the output instead.
DUCKDB_MEMORY_LIMIT = "8GB"

_SYNTHETIC_SQL = """
create table records as
with base as (
    select id,
        nullif(lower(trim(strip_accents(first_name))), '') as fn,
        nullif(lower(trim(strip_accents(last_name))), '') as ln,
        string_split(trim(regexp_replace(lower(strip_accents(coalesce(full_name, ''))), '\\s+', ' ', 'g')),
                     ' ') as parts,
        email, phone, company, city
    from read_csv(?, all_varchar = true, header = true)
)
select id,
    coalesce(fn, nullif(parts[1], '')) as first_name,
    coalesce(ln, case when len(parts) > 1 then parts[-1] end) as last_name,
    nullif(lower(trim(email)), '') as email,
    nullif(right(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), 10), '') as phone,
    nullif(lower(trim(strip_accents(company))), '') as company,
    nullif(lower(trim(strip_accents(city))), '') as city
from base
"""

FEBRL_COLUMNS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb",
                 "postcode", "state", "date_of_birth", "soc_sec_id")
_FEBRL_SQL = "create table records as select id, " + ", ".join(
    f"nullif(lower(trim({c})), '') as {c}" for c in FEBRL_COLUMNS
) + " from read_csv(?, all_varchar = true, header = true)"


def connect(spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB capped at DUCKDB_MEMORY_LIMIT, spilling into spill_dir."""
    spill_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    con.execute("set temp_directory = ?", [str(spill_dir)])
    return con


def load_prepared(con: duckdb.DuckDBPyConnection, path: Path, dataset: str) -> None:
    """Create table `records` (id + cleaned columns; never the truth) from the input CSV."""
    con.execute(_SYNTHETIC_SQL if dataset == "synthetic" else _FEBRL_SQL, [str(path)])
