"""The contract is declared once: the docs are generated from it and stay in step."""

from pathlib import Path

from reportlib.data.contract import TABLES, contract_markdown, required_tables

ROOT = Path(__file__).resolve().parent.parent


def test_docs_match_the_contract():
    doc = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert doc == contract_markdown(), (
        "regenerate docs/data-contract.md from reportlib.data.contract.contract_markdown()"
    )


def test_every_spec_table_is_declared():
    assert set(TABLES) == {
        "contacts",
        "intervals",
        "agents",
        "agent_activity",
        "qa_evaluations",
        "clients",
        "interval_plan",
        "interval_staffing",
    }


def test_required_tables_follow_the_spec():
    assert required_tables(set()) == ["contacts", "agents", "clients"]
    assert required_tables({"intervals"}) == ["agents", "clients"]
