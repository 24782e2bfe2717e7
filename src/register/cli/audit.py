"""`register audit`: seal the audit log into its hash chain and verify it."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..config import Settings
from .base import json_option, main, open_store, report


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("seal")
@click.option(
    "--full", is_flag=True, help="look for unsealed events across the whole log, not just recent ones"
)
@json_option
@click.pass_obj
def audit_seal(settings: Settings, full: bool, as_json: bool) -> None:
    """Seal committed audit events into the hash chain and anchor the head. Exits 1 if an event was refused
    (its MAC is missing or wrong) or the head could not be anchored."""
    with open_store(settings) as store:
        result = store.seal(full=full, force_anchor=True)
        where = store.anchors.description
    sealed = {
        "sealed": result.sealed,
        "refused": [{"seq": seq, "why": why} for seq, why in result.refused],
        "anchored_at_position": result.anchor.position if result.anchor is not None else None,
        "anchor_store": where,
        "anchor_error": result.anchor_error,
    }
    report(sealed, as_json, _seal_lines)
    sys.exit(1 if result.refused or result.anchor_error else 0)


def _seal_lines(r: dict[str, Any]) -> list[str]:
    lines = [f"{r['sealed']} events sealed"]
    lines += [f"REFUSED: audit event seq {x['seq']}: {x['why']}" for x in r["refused"]]
    if r["anchored_at_position"] is not None:
        lines.append(f"head anchored at position {r['anchored_at_position']} in {r['anchor_store']}")
    if r["anchor_error"]:
        lines.append(f"ANCHOR FAILED: {r['anchor_error']}")
    if r["refused"]:
        lines.append(
            f"{len(r['refused'])} events refused: run `register audit verify` and see docs/operations.md "
            "(Audit)"
        )
    return lines


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def audit_verify(settings: Settings, as_json: bool) -> None:
    """Prove that no audit event was inserted, modified, deleted or reordered, and that the chain reaches its
    latest anchor (no cut tail, no emptied log, no re-sealed chain). Exits 1 on any finding."""
    with open_store(settings, whole_register=True) as store:
        report = store.verify_audit()
    first = report.first_broken
    latest = report.latest_anchor
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "sealed": report.sealed,
                    "unsealed": report.unsealed,
                    "head": {"position": report.head_position, "digest": report.head_digest},
                    "anchors": {
                        "store": report.anchor_store,
                        "count": report.anchors,
                        "latest": latest.__dict__ if latest else None,
                    },
                    "first_broken": {"position": first.position, "seq": first.seq, "kind": first.kind}
                    if first
                    else None,
                    "problems": [p.__dict__ for p in report.problems],
                },
                indent=2,
            )
        )
    else:
        for problem in report.problems:
            click.echo(f"{problem.kind.upper()}: {problem.message}")
        click.echo(
            f"{report.sealed} events sealed, {report.unsealed} awaiting sealing; head at position "
            f"{report.head_position} digest {report.head_digest[:16]}"
        )
        click.echo(
            f"{report.anchors} anchors in {report.anchor_store}"
            + (f"; latest at position {latest.position}, {latest.at}" if latest else "")
        )
        if first is not None:
            located = [
                f"chain position {first.position}" if first.position is not None else "",
                f"event seq {first.seq}" if first.seq is not None else "",
            ]
            click.echo(f"first broken: {', '.join(x for x in located if x) or 'see above'} ({first.kind})")
        click.echo(
            "audit log intact" if report.ok else f"AUDIT LOG TAMPERED WITH: {len(report.findings)} findings"
        )
    sys.exit(0 if report.ok else 1)
