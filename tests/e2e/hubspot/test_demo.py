"""``connector demo`` runs the whole flow and prints who got what."""

from click.testing import CliRunner

from connector.cli import main
from tests.support.migrations import READY_LINE


def test_demo_routes_every_contact_and_prints_the_table():
    result = CliRunner().invoke(main, ["demo", "--contacts", "60", "--reps", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == READY_LINE
    assert "INFO" not in result.output and "alembic" not in result.output
    assert any(line.startswith("ana@demo.example") and line.endswith(" 30") for line in lines)
    assert any(line.startswith("ben@demo.example") and line.endswith(" 30") for line in lines)
    assert "60 records routed" in result.output
    assert "HubSpot API calls" in result.output
