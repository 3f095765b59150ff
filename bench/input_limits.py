"""What the input limits cost, and what they save.

    python bench/input_limits.py

Prints the time to refuse a YAML alias bomb, the time of ``^(a+)+$`` on RE2 against
Python's backtracking ``re`` (on 22 characters, where ``re`` still answers in a fraction
of a second; each further character doubles its time), the guard's cost on a full HubSpot
webhook batch, and the sign-in throttle's memory after 200 failed sign-ins with 500 KB
emails.
"""

from __future__ import annotations

import json
import re
import time
import tracemalloc

from connector.mapping import transforms
from connector.mapping.validation import validate_text
from connector.web.admin.security import LoginThrottle
from connector.web.limits import check_json, parse_body

BOMB = "a: &a [" + ",".join(["x"] * 9) + "]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [" + ",".join([f"*{chr(97 + n)}"] * 9) + "]\n"
    for n in range(7))


def timed(fn, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    seconds = timed(lambda: validate_text(BOMB, "bench"), 20)
    _, issues = validate_text(BOMB, "bench")
    print(f"YAML alias bomb ({len(BOMB)} bytes, 9^8 nodes if expanded): refused in "
          f"{seconds * 1e3:.2f} ms ({issues[0].message[:40]}...)")

    kind, linear = transforms.compile_transform({"regex": "^(a+)+$"})
    backtracking = re.compile("^(a+)+$")
    for n in (22, 29):
        text = "a" * n + "!"
        re2_s = timed(lambda t=text: transforms.apply_transform(kind, linear, t), 200)
        line = f"^(a+)+$ on {n + 1} characters: RE2 {re2_s * 1e6:.1f} µs"
        if n == 22:
            re_s = timed(lambda t=text: backtracking.search(t))
            line += f", Python re {re_s * 1e3:.0f} ms ({re_s / re2_s:,.0f}x)"
        print(line)

    batch = json.dumps([{"eventId": n, "subscriptionId": 1, "portalId": 62515, "appId": 1,
                         "occurredAt": 1_700_000_000_000 + n, "attemptNumber": 0,
                         "objectId": 10_000 + n, "subscriptionType": "contact.propertyChange",
                         "propertyName": "email", "propertyValue": f"user{n}@example.com",
                         "changeSource": "CRM"} for n in range(100)])
    parse = timed(lambda: json.loads(batch), 200)  # what the view does anyway
    raw = batch.encode()
    guard = timed(lambda: parse_body(raw), 200)
    walk = timed(lambda: check_json(json.loads(raw)), 200)
    print(f"request guard on a 100-event webhook batch ({len(batch) / 1024:.0f} KB): "
          f"{guard * 1e6:.0f} µs, json.loads alone {parse * 1e6:.0f} µs (the walk that "
          f"names a bad field, run only when the text shows one may be there: "
          f"{walk * 1e6:.0f} µs)")

    tracemalloc.start()
    throttle = LoginThrottle()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(200):
        email = f"{n}" + "x" * 500_000 + "@example.com"
        throttle.failed(f"email:{email}", "ip:203.0.113.9")
    del email
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(f"sign-in throttle after 200 failures with 500 KB emails: {len(throttle)} keys, "
          f"{kept / 1024:.0f} KB kept")


if __name__ == "__main__":
    main()
