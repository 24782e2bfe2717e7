"""The benchmark command at a tiny size, against the suite's real PostgreSQL and Elasticsearch node: every
figure is produced beside its baseline. A smoke test only: the numbers themselves are measured on demand (make
bench)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres_only
def test_the_benchmark_produces_every_figure_with_its_baseline(
    fresh_database: str, es_node, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "results.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--nominals",
            "300",
            "--sqlite-nominals",
            "150",
            "--repeat",
            "3",
            "--database-url",
            fresh_database,
            "--elasticsearch-url",
            es_node.url,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    figures = {f["figure"].split(" (documents")[0]: f for f in results["figures"]}
    assert set(figures) == {
        "full reindex",
        "investigator searches through the API (Elasticsearch)",
        "read a whole record through the API",
        "update a record through the API (append to the chronology)",  # the same writes as plain SQL
        "update a record through the API, against a single insert",
    }
    assert all(
        f["baseline"] and (f.get("ratio_median") or f.get("ratio_throughput")) for f in figures.values()
    )
    assert len(results["searches"]) >= 10 and any(q["hits"] > 0 for q in results["searches"])
    assert {
        "quality_sweep_all_areas_s",
        "quality_sweep_all_areas_first_run_s",
        "quality_sweep_area_by_area_s",
        "annual_statistics_all_areas_s",
        "annual_statistics_area_by_area_s",
        "sustained_updates_per_s_4_clients",
        "sustained_updates_per_s_4_clients_2_api_processes",
        "indexer_catch_up_after_sustained_writes_s",
        "indexer_lag_under_sustained_writes_s",
        "generate_postgresql_s",
        "generate_sqlite_s",
    } <= set(results["timings"])
    # The CPU each server process spent per sustained update, and the bound that sets on this machine's CPUs
    assert results["timings"]["sustained_updates_per_s_4_clients"] > 0
    assert results["timings"]["sustained_updates_per_s_4_clients_2_api_processes"] > 0
    for layout in ("one_api_process", "two_api_processes"):
        cpu = results["update_cpu"][layout]
        assert cpu["cpu_ms_per_update"]["api"] > 0 and cpu["cpu_ms_per_update"]["postgresql"] > 0
        assert cpu["bound_per_s_on_these_cpus"] > 0
    # The web pages, signed in as the benchmark offender manager (fewer than 60 people at this size)
    pages = {p["page"].split(" (")[0]: p for p in results["pages"]}
    assert {
        "caseload page",
        "record overview page",
        "associations page, two levels",
        "statistics page",
        "statistics page, worked out afresh each view",
        "people behind a figure",
        "people behind a figure, worked out afresh each view",
        "audit log, first page",
        "who looked at a record",
        "one audit event",
        "data-quality dashboard",
        "quality worklist, all findings",
        "workload across the area",
    } <= set(pages)
    assert pages["caseload page"]["n"] == pages["record overview page"]["n"] == 9
    assert all(p["n"] > 0 and p["p95_ms"] > 0 and p["statements_per_view"] > 0 for p in pages.values())
    assert results["casework_pages"] and results["search_pages"]
    assert (
        results["machine"]["peak_memory_mb_api"] > 0
        and results["machine"]["peak_memory_mb_reindex"] > 0
        and results["sqlite_searches"]["overall"]["n"] > 0
    )
    # Relevance on the SQLite register, both backends (register.synthetic.relevance)
    assert {"sql", "elasticsearch"} == set(results["relevance"]["backends"])
    assert all(b["overall"]["queries"] > 0 for b in results["relevance"]["backends"].values())
