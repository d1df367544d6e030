"""Splink 5 (DuckDB backend) as a contender: a standard Fellegi-Sunter dedupe model.

Input cleaning is _prep.py's, shared with GoldenMatch: lowercase, trim, strip accents,
phone = last 10 digits, a full name split into its first and last token; no
transliteration or nickname tables. Training follows the Splink tutorial: the prior from
deterministic rules, u by random sampling, m by EM on two blocking rules; then predict at match
probability 0.9 and cluster the links with connected components at the same threshold.

E-mail is compared exactly or within one edit, not with Splink's EmailComparison: its
username and Jaro-Winkler levels reward name-derived usernames (anita.sharma715@ vs
anita_sharma@), which double-counts the name and chained thousands of same-name strangers
into one cluster at 100k (pairwise precision 0.02). The choice favours Splink.
"""

from __future__ import annotations

import logging
from pathlib import Path

import splink.comparison_library as cl
from _contender import Phases, parse_args
from _prep import connect, load_prepared
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

THRESHOLD = 0.9
U_MAX_PAIRS = 1e7
SEED = 42


def _synthetic_model() -> tuple[SettingsCreator, list, float, list]:
    """Settings, deterministic rules and their assumed recall, EM training rules."""
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="id",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("email", [1]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("last_name", "substr(first_name, 1, 1)"),
            block_on("first_name", "city"),
        ],
        retain_matching_columns=False,
    )
    deterministic = [block_on("email"), block_on("phone", "last_name")]
    training = [block_on("email"), block_on("last_name", "substr(first_name, 1, 1)")]
    return settings, deterministic, 0.7, training


def _febrl_model() -> tuple[SettingsCreator, list, float, list]:
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]),
            cl.JaroWinklerAtThresholds("suburb", [0.9]),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
            block_on("address_1"),
        ],
        retain_matching_columns=False,
    )
    deterministic = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
    training = [block_on("given_name", "surname"), block_on("date_of_birth")]
    return settings, deterministic, 0.6, training


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    phases = Phases()
    logging.getLogger("splink").setLevel(logging.WARNING)
    with phases.phase("load"):
        con = connect(args.output.parent / f"{args.output.stem}.duckdb-tmp")
        load_prepared(con, args.input, args.dataset)
        db_api = DuckDBAPI(connection=con)
        records = db_api.register("records")
    settings, deterministic, recall, training = (
        _synthetic_model() if args.dataset == "synthetic" else _febrl_model())
    with phases.phase("train"):
        linker = Linker(records, settings, log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
        linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
        for rule in training:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
    with phases.phase("predict"):
        predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    with phases.phase("cluster"):
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=THRESHOLD)
    with phases.phase("write"):
        out = Path(args.output)
        con.execute(f"copy (select id as record_id, cluster_id from {clusters.physical_name}) "
                    f"to '{out}' (header, delimiter ',')")
    phases.notes["links_at_threshold"] = con.execute(
        f"select count(*) from {predictions.physical_name}").fetchone()[0]
    phases.save(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
