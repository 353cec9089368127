"""`make bench`'s summary: every bench's figures in one table, each bench on its own database."""

import json

from bench import all as bench_all
from bench.summary import summary_record, summary_rows, summary_table


def test_figures_are_recorded_only_when_a_summary_file_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_SUMMARY", raising=False)
    summary_record(bench="aging", figure="x", value=1.0, unit="ms")
    path = tmp_path / "summary.jsonl"
    monkeypatch.setenv("BENCH_SUMMARY", str(path))
    monkeypatch.setattr("os.getloadavg", lambda: (3.25, 2.0, 1.0))
    summary_record(bench="aging", figure="1,000,000 invoices", value=150.0, unit="ms", floor=100.0, target="<= 1.5x",
                   met=True)
    summary_record(bench="dunning_run", figure="1,000,000 invoices", value=75.5, unit="s", target="< 60 s", met=False)
    rows = summary_rows(str(path))
    assert [json.loads(line)["bench"] for line in path.read_text().splitlines()] == ["aging", "dunning_run"]
    assert rows[0]["ratio"] == 1.5
    table = summary_table(rows).splitlines()
    assert table[0] == "| bench | figure | value | floor | ratio | target | met | load |"
    assert table[2] == "| aging | 1,000,000 invoices | 150.00 ms | 100.00 ms | 1.50x | <= 1.5x | met | 3.25 |"
    assert table[3] == "| dunning_run | 1,000,000 invoices | 75.50 s | — | — | < 60 s | MISSED | 3.25 |"
    # A file written before the load was recorded still prints.
    assert summary_table([{**rows[0], "load": None}]).splitlines()[2].endswith("| met | — |")


def test_a_prefix_keeps_one_persons_bench_databases_apart():
    assert bench_all.database_url("aging") == "postgres://postgres@127.0.0.1:5432/inflow_bench_aging"
    assert bench_all.database_url("aging", "inflow_bench_h4_").endswith("/inflow_bench_h4_aging")


def test_every_bench_runs_on_its_own_database_and_quick_sizes_are_small():
    full, quick = bench_all.benches("10000,1000000", quick=False), bench_all.benches("10000,1000000", quick=True)
    assert {"aging", "dso", "statement", "api_list", "api_bulk", "weekly_report", "dunning_run", "credit_rescore"} <= set(full)
    assert full["aging"][:3] == ["bench.aging", "--sizes", "10000,1000000"]
    assert "1000000" not in " ".join(" ".join(argv) for argv in quick.values())
    for name, argv in full.items():
        module = __import__(argv[0], fromlist=["main"])
        assert callable(module.main), name
