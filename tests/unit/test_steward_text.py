"""What the steward reads in the UI (orchestration/steward.py): Vietnamese then English, columns named."""

from __future__ import annotations

import json

import pytest

from orchestration.resources import DBT_PROJECT
from orchestration.steward import (
    bilingual,
    dbt_test_description,
    model_description,
    result_description,
    rule_description,
)
from ward.quality.rules import PLACEHOLDER, load_rules


@pytest.mark.parametrize("rule", load_rules(), ids=lambda r: r.code)
def test_every_rule_check_reads_in_both_languages_with_its_columns_named(rule):
    text = rule_description(rule)
    vi, _, en = text.partition("\n\nEN: ")
    assert en, text
    assert not PLACEHOLDER.search(text), "a raw {placeholder} is left"
    for column in PLACEHOLDER.findall(rule.reason_vi + rule.reason_en):
        assert f"«{column}»" in vi and f"«{column}»" in en
    assert rule.code in text
    assert ("[cách ly" in vi and "[quarantine" in en) if rule.outcome == "quarantine" else "[giữ lại" in vi


def test_a_quoted_placeholder_becomes_the_column_name():
    rule = next(r for r in load_rules() if r.code == "CIT_ID_UNUSABLE")
    assert "«citizen_id_raw»" in rule_description(rule)
    assert "'«" not in rule_description(rule)


def test_every_dbt_test_of_the_project_has_a_description_in_both_languages():
    nodes = json.loads(DBT_PROJECT.manifest_path.read_text())["nodes"].values()
    tests = [n for n in nodes if n["resource_type"] == "test"]
    assert tests
    for node in tests:
        text = dbt_test_description(node)
        assert "EN: " in text and "dbt test `" not in text, (node["name"], text)


def test_a_dbt_test_with_its_own_description_keeps_it():
    node = {"name": "x", "description": "Của riêng / its own", "config": {"severity": "warn"}}
    assert dbt_test_description(node).startswith("Của riêng / its own")
    assert "cảnh báo" in dbt_test_description(node)


def test_a_model_described_in_english_gets_vietnamese_in_front_and_a_bilingual_one_is_kept():
    english = {"name": "fct_service_record", "fqn": ["ward", "marts", "x"], "description": "One row."}
    assert model_description(english) == bilingual(
        "Mỗi hồ sơ thủ tục hành chính một dòng: phiên bản mới nhất.", "One row."
    )
    both = {
        "name": "x",
        "fqn": ["ward", "marts", "x"],
        "description": "Mỗi tệp một dòng. / One row per file.",
    }
    assert model_description(both) == bilingual("Mỗi tệp một dòng.", "One row per file.")
    unknown = {"name": "int_new", "fqn": ["ward", "intermediate", "int_new"], "description": ""}
    assert model_description(unknown).startswith("Bước trung gian")


def test_a_quarantine_that_fired_is_said_to_work_as_designed():
    assert "quarantined as designed" in result_description("quarantine", 3, None)
    assert "flagged for review" in result_description("flag", 3, None)
    assert "could not be evaluated" in result_description("quarantine", None, "Binder Error")
    assert "No row" in result_description("flag", 0, None)
