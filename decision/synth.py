"""Synthetic organisation profiles for demos and benchmarks: plausible mixes, vectorised, seeded.

`python -m decision synth N -o FILE [--seed S] [--bad-share P]` writes N profiles as CSV, Parquet,
XLSX or YAML. The mixes below describe a made-up client base (they are demo data, not rules): mostly
small and mid-size organisations, Exchange 2016 / 2019 / SE, start dates mostly 2026-12-01 with some
historical ones, some BYOD, internal CAs more common in larger organisations. With --bad-share, that
share of rows gets exactly one invalid value each, of a kind the validator must reject.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import click
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from decision.catalog import default_catalog
from decision.dates import to_day
from decision.errors import InputError, Issue, exit_with, writing
from decision.limits import size_text
from decision.parameters import default_parameters
from decision.safe_output import FORMATS, TableWriter, atomic_path, output_format
from decision.safeyaml import MAX_YAML_BYTES
from decision.tables import YAML_SUFFIXES

BLOCK_ROWS = 500_000
CURRENT_START = "2026-12-01"
NEAR_STARTS = ("2026-01-01", "2027-12-31")  # other start dates around today
HISTORICAL_STARTS = ("2007-01-01", "2025-12-31")  # drawn from the earliest Exchange release on, if that is later

# (weight, users low, users high) per size class
SIZES = ((0.45, 5, 50), (0.35, 50, 500), (0.15, 500, 5_000), (0.05, 5_000, 50_000))
# per size class: share with an internal CA, in hybrid / partner TLS, with MDM, extra domains (mean), servers (max)
INTERNAL_CA = np.array([0.10, 0.40, 0.70, 0.85])
PARTNER_TLS = np.array([0.10, 0.25, 0.45, 0.60])
MDM = np.array([0.15, 0.45, 0.80, 0.90])
EXTRA_DOMAINS = np.array([0.1, 0.4, 1.0, 2.0])
MAX_SERVERS = np.array([1, 2, 4, 6])
# version mix for current starts (index into the parameters' exchange versions, oldest first)
CURRENT_VERSIONS = {"2013": 0.03, "2016": 0.22, "2019": 0.35, "SE": 0.40}
START_MIX = (0.85, 0.05, 0.10)  # the current start date, another date in 2026-2027, historical
HORIZONS = ((1.0, 0.15), (3.0, 0.65), (5.0, 0.20))
TLDS = (("com", 0.55), ("net", 0.07), ("org", 0.06), ("de", 0.08), ("co.uk", 0.08), ("fr", 0.05), ("nl", 0.06),
        ("com.au", 0.05))
WORDS_A = ("North", "Blue", "Alpine", "Coastal", "Lakeside", "Summit", "Harbor", "Silver", "Green", "Metro",
           "Pioneer", "Granite", "Cedar", "Riverside", "Sunrise", "Atlas")
WORDS_B = ("Dental", "Logistics", "Legal", "Clinic", "Foods", "Engineering", "Motors", "Insurance", "Design",
           "Analytics", "Builders", "Pharma", "Travel", "Media", "Textiles", "Energy")
SUFFIXES = ("Ltd", "Inc", "GmbH", "LLP", "SA", "BV", "Group", "& Co")
INTERNAL_DOMAINS = (("{base}.local", 0.35), ("corp.{ext}", 0.20), ("ad.{ext}", 0.10), ("{base}.lan", 0.10), ("", 0.25))
OWA_HOSTS = (("", 0.70), ("webmail.{ext}", 0.12), ("owa.{ext}", 0.10), ("mail.{ext}", 0.08))
SERVER_PREFIXES = ("EX", "EXCH", "MAIL", "CAS")
EXPLICIT_CA_SHARE = 0.12  # profiles that name their CA instead of 'cheapest'; weights by CA id (others 0.25)
EXPLICIT_CA = {"sectigo": 3, "digicert": 3, "globalsign": 2, "godaddy": 2, "sslcom": 1, "letsencrypt": 1}
CURRENCIES = (("USD", 0.60), ("EUR", 0.25), ("GBP", 0.15))
BAD_KINDS = ("users_negative", "share_above_one", "horizon_too_long", "bad_domain", "unknown_version", "bad_date",
             "misspelt_ca", "empty_org", "server_fqdn", "zero_weights", "fractional_users")


def _pick(rng: np.random.Generator, items: tuple, n: int) -> np.ndarray:
    """Indices into (value, weight) pairs, drawn by weight."""
    weights = np.array([w for _, w in items], dtype=float)
    return rng.choice(len(items), size=n, p=weights / weights.sum())


def _take(values: tuple | list, idx: np.ndarray) -> pa.Array:
    return pa.array(list(values), type=pa.string()).take(pa.array(idx))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _template(templates: tuple, idx: np.ndarray, base: pa.Array, ext: pa.Array) -> pa.Array:
    """'{base}.local' / 'corp.{ext}' / '' per row: one prefix + name + suffix join for all rows."""
    heads, fields, tails = zip(*(_split_template(t) for t, _ in templates), strict=True)
    name = pc.if_else(pa.array(np.array([f == "base" for f in fields])[idx]), base, ext)
    filled = _join(_take(heads, idx), name, _take(tails, idx))
    return pc.if_else(pa.array(np.array([not f for f in fields])[idx]), "", filled)


def _split_template(template: str) -> tuple[str, str, str]:
    head, _, tail = template.partition("{")
    field, _, rest = tail.partition("}")
    return head, field, rest


def _list(items: list[pa.Array], count: np.ndarray) -> pa.Array:
    """';'-joined lists whose row i holds the first count[i] items."""
    return _join(*[pc.if_else(pa.array(count > j), _join(";" if j else "", item), "") for j, item in enumerate(items)])


def _money(rng: np.random.Generator, n: int, blank_share: float, low: float, high: float) -> pa.Array:
    values = np.round(rng.uniform(low, high, n), 0)
    return pa.array(values, mask=rng.random(n) < blank_share)


def _block(rng: np.random.Generator, first: int, n: int, bad_share: float) -> pa.Table:
    """n profiles numbered from `first` (1-based)."""
    params, catalog = default_parameters(), default_catalog()
    number = pc.cast(pa.array(np.arange(first, first + n)), pa.string())

    size = _pick(rng, tuple((None, w) for w, _, _ in SIZES), n)
    low = np.array([s[1] for s in SIZES])[size]
    high = np.array([s[2] for s in SIZES])[size]
    users = np.floor(np.exp(rng.uniform(np.log(low), np.log(high)))).astype(np.int64)
    desktops = np.rint(users * rng.uniform(0.7, 1.1, n)).astype(np.int64)
    mobile = np.rint(users * rng.uniform(0.2, 1.5, n)).astype(np.int64)
    byod = rng.random(n) < MDM[size]
    mdm_share = np.where(byod, np.round(rng.uniform(0.3, 1.0, n), 2), 0.0)
    joined = np.round(np.clip(rng.beta(8, 2, n), 0, 1), 2)

    # start dates and the Exchange releases that existed on them
    versions = sorted(params.exchange_versions, key=lambda v: str(params.exchange_versions[v]["released"]))
    released = np.array([to_day(str(params.exchange_versions[v]["released"])) for v in versions])
    mix = _pick(rng, tuple((None, w) for w in START_MIX), n)
    first_historical = max(to_day(HISTORICAL_STARTS[0]), int(released[0]))  # no start before any release existed
    start = np.where(mix == 0, to_day(CURRENT_START),
                     np.where(mix == 1, rng.integers(*map(to_day, NEAR_STARTS), n),
                              rng.integers(first_historical, to_day(HISTORICAL_STARTS[1]), n)))
    newest = np.searchsorted(released, start, side="right") - 1  # >= 0: every start is on or after a release
    historical = newest - np.minimum(rng.geometric(0.6, n) - 1, newest)
    current_pick = np.array([versions.index(v) for v in CURRENT_VERSIONS])[
        _pick(rng, tuple((v, w) for v, w in CURRENT_VERSIONS.items()), n)]
    version = np.where(mix == 2, historical, np.minimum(current_pick, newest))
    days, day_index = np.unique(start, return_inverse=True)
    start_text = _take(list(np.datetime_as_string(days.astype("datetime64[D]"))), day_index)

    a, b = rng.integers(0, len(WORDS_A), n), rng.integers(0, len(WORDS_B), n)
    org = _join(_take(WORDS_A, a), " ", _take(WORDS_B, b), " ", _take(SUFFIXES, rng.integers(0, len(SUFFIXES), n)))
    base = _join(pc.utf8_lower(_take(WORDS_A, a)), pc.utf8_lower(_take(WORDS_B, b)), number)
    tld_names = tuple(t for t, _ in TLDS)
    ext = _join(base, ".", _take(tld_names, _pick(rng, TLDS, n)))
    n_extra = np.minimum(rng.poisson(EXTRA_DOMAINS[size]), 3)
    extras = [_join(base, suffix, ".", _take(tld_names, _pick(rng, TLDS, n))) for suffix in ("-group", "-mail", "-eu")]
    n_servers = rng.integers(1, MAX_SERVERS[size] + 1)
    server_lists = [";".join(f"{p}{j:02d}" for j in range(1, k + 1)) for p in SERVER_PREFIXES
                    for k in range(1, MAX_SERVERS.max() + 1)]
    servers = rng.integers(0, len(SERVER_PREFIXES), n) * MAX_SERVERS.max() + n_servers - 1
    historical_row = mix == 2
    weights_given = rng.random(n) < 0.3
    raw_weights = rng.dirichlet(np.ones(4), n)
    cas = tuple((ca.id, EXPLICIT_CA.get(ca.id, 0.25)) for ca in catalog.cas if ca.public)
    ca_idx = np.where(rng.random(n) < EXPLICIT_CA_SHARE, _pick(rng, cas, n) + 1, 0)
    horizon = np.array([h for h, _ in HORIZONS])[_pick(rng, HORIZONS, n)]

    columns = {
        "id": _join("P", pc.utf8_lpad(number, 8, "0")),
        "org": org,
        "exchange_version": _take(versions, version),
        "start": start_text,
        "horizon_years": pa.array(horizon),
        "external_domain": ext,
        "extra_domains": _list(extras, n_extra),
        "internal_domain": _template(INTERNAL_DOMAINS, _pick(rng, INTERNAL_DOMAINS, n), base, ext),
        "servers": _take(server_lists, servers),
        "owa_host": _template(OWA_HOSTS, _pick(rng, OWA_HOSTS, n), base, ext),
        "internal_names": pa.array(rng.random(n) < np.where(historical_row, 0.6, 0.12)),
        "root_on_exchange": pa.array(rng.random(n) < 0.1),
        "split_dns": pa.array(rng.random(n) < 0.8),
        "users": pa.array(users),
        "desktops": pa.array(desktops),
        "domain_joined_share": pa.array(joined),
        "mobile_devices": pa.array(mobile),
        "mdm_share": pa.array(mdm_share),
        "partner_tls": pa.array(rng.random(n) < PARTNER_TLS[size]),
        "internal_ca": pa.array(rng.random(n) < INTERNAL_CA[size]),
        "acme_ok": pa.array(rng.random(n) < np.where(historical_row, 0.05, 0.45)),
        "dns_api": pa.array(rng.random(n) < 0.35),
        "spare_ip": pa.array(rng.random(n) < 0.2),
        "ca": _take(["cheapest", *(c for c, _ in cas)], ca_idx),
        "currency": _take(tuple(c for c, _ in CURRENCIES), _pick(rng, CURRENCIES, n)),
        "admin_rate": _money(rng, n, 0.5, 45, 140),
        "user_rate": _money(rng, n, 0.6, 25, 80),
    }
    for j, name in enumerate(("w_cost", "w_trust", "w_reconfiguration", "w_url_change")):
        columns[name] = pa.array(np.round(raw_weights[:, j], 2), mask=~weights_given)
    if bad_share > 0:
        columns = _spoil(rng, columns, n, bad_share)
    return pa.table(columns)


def _spoil(rng: np.random.Generator, columns: dict[str, pa.Array], n: int, share: float) -> dict[str, pa.Array]:
    """Give `share` of the rows one invalid value each (types kept, so every format can hold them)."""
    bad = rng.random(n) < share
    kind = np.where(bad, rng.integers(0, len(BAD_KINDS), n), -1)

    def put(name: str, code: str, value) -> None:
        mask = pa.array(kind == BAD_KINDS.index(code))
        columns[name] = pc.if_else(mask, pa.scalar(value, columns[name].type), columns[name])

    put("users", "users_negative", -5)
    put("domain_joined_share", "share_above_one", 1.7)
    put("horizon_years", "horizon_too_long", 25.0)
    put("external_domain", "bad_domain", "not a domain!")
    put("exchange_version", "unknown_version", "2003")
    put("start", "bad_date", "2026-13-45")
    put("ca", "misspelt_ca", "letsencrpyt")
    put("org", "empty_org", "")
    put("servers", "server_fqdn", "ex01.corp.local")
    for name in ("w_cost", "w_trust", "w_reconfiguration", "w_url_change"):
        put(name, "zero_weights", 0.0)
    users = pc.cast(columns["users"], pa.float64())  # room for a fractional head count
    columns["users"] = pc.if_else(pa.array(kind == BAD_KINDS.index("fractional_users")), pc.add(users, 0.5), users)
    return columns


def generate(n: int, *, seed: int = 0, bad_share: float = 0.0, block_rows: int = BLOCK_ROWS) -> Iterator[pa.Table]:
    """N synthetic profiles in blocks (the same seed gives the same profiles)."""
    if not 0 <= bad_share <= 1:
        raise ValueError("bad_share must be between 0 and 1")
    rng = np.random.default_rng(seed)
    for first in range(0, n, block_rows):
        yield _block(rng, first + 1, min(block_rows, n - first), bad_share)


def _yaml_profiles(table: pa.Table) -> list[dict]:
    out = []
    for row in table.to_pylist():
        item = {k: v for k, v in row.items() if v is not None and v != ""}
        for key in ("extra_domains", "servers"):
            if key in item:
                item[key] = item[key].split(";")
        out.append(item)
    return out


def write_synthetic(n: int, path: Path | str, *, seed: int = 0, bad_share: float = 0.0) -> None:
    """Write N profiles to a CSV, Parquet, XLSX or YAML file (atomically); ValueError for a path it cannot take."""
    path = Path(path)
    if path.suffix.lower() not in (*FORMATS, *YAML_SUFFIXES):
        raise ValueError(f"unsupported output type '{path.suffix}' (use .csv, .parquet, .xlsx or .yaml)")
    if not path.parent.is_dir():
        raise ValueError(f"the folder {path.parent} does not exist")
    if path.suffix.lower() in YAML_SUFFIXES:
        profiles = [p for block in generate(n, seed=seed, bad_share=bad_share) for p in _yaml_profiles(block)]
        text = yaml.safe_dump(profiles, sort_keys=False, allow_unicode=True).encode("utf-8")
        if len(text) > MAX_YAML_BYTES:  # score and the app would refuse it
            raise ValueError(f"{n:,} profiles make a YAML file of {len(text):,} bytes, over the "
                             f"{size_text(MAX_YAML_BYTES)} a YAML profile file may hold: write .csv, .parquet or .xlsx")
        with atomic_path(path) as tmp:
            tmp.write_bytes(text)
        return
    fmt = output_format(path)
    with atomic_path(path) as tmp:
        if fmt == "xlsx":
            writer = TableWriter(tmp, fmt, sheet="profiles")
            for block in generate(n, seed=seed, bad_share=bad_share):
                writer.write(block.to_pandas())
            writer.close()
            return
        blocks = generate(n, seed=seed, bad_share=bad_share)
        first = next(blocks, None) or _block(np.random.default_rng(seed), 1, 0, bad_share)
        # our own generated text holds no formulas, so the Arrow writers are used directly
        with (pacsv.CSVWriter(tmp, first.schema) if fmt == "csv" else pq.ParquetWriter(tmp, first.schema)) as out:
            for block in itertools.chain([first], blocks):
                out.write_table(block)


@click.command("synth")
@click.argument("n", type=click.IntRange(min=0))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the profiles: .csv, .parquet, .xlsx or .yaml.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed (same seed, same profiles).")
@click.option("--bad-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of rows given one invalid value each, to exercise the error path.")
def synth_command(n: int, output: Path, seed: int, bad_share: float) -> None:
    """Write N synthetic organisation profiles for demos and benchmarks."""
    started = time.perf_counter()
    try:
        with writing(output):
            write_synthetic(n, output, seed=seed, bad_share=bad_share)
    except InputError as exc:
        exit_with(exc)
    except ValueError as exc:
        exit_with(InputError(Issue(str(output), 0, "", str(exc))))
    seconds = time.perf_counter() - started
    click.echo(f"wrote {n:,} profiles to {output} in {seconds:.1f} s", err=True)
