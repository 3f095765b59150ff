from __future__ import annotations

import re

from click.testing import CliRunner

from connector.cli import main
from tests.support.migrations import READY_LINE


def test_demo_command_runs_the_whole_salesforce_flow():
    result = CliRunner().invoke(main, ["demo-salesforce", "--conversations", "2",
                                       "--records", "3"])

    assert result.exit_code == 0, result.output
    out = result.output
    lines = out.splitlines()
    # one line for the database, none of Alembic's or the app's INFO lines
    assert lines[0] == READY_LINE
    assert "INFO" not in out and "alembic" not in out and "WARNING" not in out
    # the conversations and the rep each was offered to, by email, not raw ids
    offered = dict(re.findall(r"^(demo-conv-\d)\s+(\S+@example\.com)\s*$", out, re.M))
    assert set(offered) == {"demo-conv-0", "demo-conv-1"}
    again = re.search(r"^declined and routed again: demo-conv-0, declined by (\S+), now "
                      r"offered to (\S+)$", out, re.M)
    assert again and again.group(1) == offered["demo-conv-0"] != again.group(2)
    assert "Outbound Message of 3 leads: HTTP 200, Ack True" in out
    per_rep = {m[0]: int(m[1]) for m in re.findall(r"^(\w+@example\.com)\s+(\d+)$", out, re.M)}
    assert sum(per_rep.values()) == 3 and set(per_rep) == {"ana@example.com",
                                                           "bob@example.com",
                                                           "cleo@example.com"}
    calls = next(line for line in lines if "Salesforce API calls:" in line)
    assert "2 x POST /api/v1/route" in calls and "3 x POST /api/v1/agentWork" in calls
    assert lines[-1].endswith("OwnerId written in 1 batch(es)")
