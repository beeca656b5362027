"""assets/quality.py: a rule that could not run stops the run with a message that says why, without
a row's values."""

from assets.quality import error_kinds


def test_the_failure_counts_the_rules_by_kind_of_error_and_names_the_exception():
    errored = {
        "R01": "Great Expectations did not run: duckdb.duckdb.IOException: IO Error: Could not set lock",
        "R02": "Great Expectations did not run: duckdb.duckdb.IOException: IO Error: Could not set lock",
        "R03": "Great Expectations errored or disagreed with the SQL count",
    }
    assert error_kinds(errored) == (
        "2 rules: Great Expectations did not run: duckdb.duckdb.IOException; "
        "1 rule: Great Expectations errored or disagreed with the SQL count"
    )


def test_what_follows_the_kind_of_error_is_not_shown():
    errored = {"R04": "Conversion Error: Could not convert string 'Nguyễn Văn An 079203001234' to INT32"}
    kinds = error_kinds(errored)
    assert kinds == "1 rule: Conversion Error"
    assert "079203001234" not in kinds and "Nguyễn" not in kinds
