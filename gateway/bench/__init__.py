"""The benchmark (``ecuapass-gateway bench``, ``make bench``): a tool beside the gateway, not part of it.

It starts its own Tansu broker and mock for each scenario, runs each system under test in a process of its own
and prints figures; it never fails on a time. ``docs/benchmarks.md`` has the method and the results.

    command.py       the CLI entry: options -> run -> table and JSON
    scenarios.py     the five scenarios and their sizes
    run.py           one scenario end to end: broker, mock, prerequisites, system under test, burst, paced phase
    workload.py      the events: a realistic mix of the three documents, from the contract examples
    prerequisites.py the authorizations and DAEs the measured events build on, filed before the measure
    driver.py        publishing events (burst or paced) and collecting outcomes with their timestamps
    processes.py     starting, watching and stopping the child processes
    procfs.py        CPU seconds, peak RSS, machine load and facts, from /proc
    report.py        the table, the targets, the JSON, versions, machine and commit
    passthrough.py   scenario 1's system: aiokafka consume -> produce
    runner.py        scenario 2's system: the gateway with an in-process endpoint that accepts at once
    naive.py         scenario 5's system: the obvious FastStream handler, one event at a time
"""
