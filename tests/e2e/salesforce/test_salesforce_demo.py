from __future__ import annotations

from click.testing import CliRunner

from connector.cli import main


def test_demo_command_runs_the_whole_salesforce_flow():
    result = CliRunner().invoke(main, ["--log-level", "WARNING", "demo-salesforce",
                                       "--conversations", "2", "--records", "3"])

    assert result.exit_code == 0, result.output
    assert "declined, offered again to" in result.output
    assert "Ack True" in result.output
    assert result.output.strip().splitlines()[-1] == \
        '{"route_calls": 2, "agent_works": 3, "owner_batches": [3]}'
