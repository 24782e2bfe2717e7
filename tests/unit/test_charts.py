"""Server-drawn charts (web/charts.py, components/chart.html): the bars and points stand for the figures they
are given, on an axis that starts at zero and covers the largest, and the SVG is well-formed with an
accessible name that points at the table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from jinja2 import Environment, FileSystemLoader

from register.web import charts
from register.web.pages import TEMPLATES

SVG = "{http://www.w3.org/2000/svg}"


def render(chart: charts.Chart) -> ET.Element:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    html = env.from_string(
        '{% from "components/chart.html" import registerChart %}{{ registerChart(chart, "t") }}'
    ).render(chart=chart)
    figure = ET.fromstring(html.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))
    return figure


def test_bars_are_proportional_to_their_values_on_an_axis_from_zero() -> None:
    chart = charts.bars(
        "Registered sex offenders", [("Category 1", 412), ("Category 2", 103), ("Category 3", 0)]
    )
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == pytest.approx(heights[1] * 4, rel=0.01)
    assert heights[2] == 0
    assert chart.ticks[0].text == "0"
    top = max(float(tick.text.replace(",", "")) for tick in chart.ticks)
    assert top >= 412
    assert all(bar.y + bar.height == pytest.approx(chart.plot_bottom) for bar in chart.bars)


def test_grouped_bars_follow_the_series_and_skip_missing_values() -> None:
    chart = charts.bars(
        "Year on year", [("Kent", [10, 12]), ("Essex", [None, 7])], series=["2024/25", "2025/26"]
    )
    assert [bar.title for bar in chart.bars] == [
        "Kent, 2024/25: 10",
        "Kent, 2025/26: 12",
        "Essex, 2025/26: 7",
    ]
    assert [name for _, name in chart.legend] == ["2024/25", "2025/26"]
    assert chart.bars[0].colour != chart.bars[1].colour


def test_a_line_has_a_point_per_run_higher_for_larger_values() -> None:
    chart = charts.line("Findings", [("3 Nov", 12), ("10 Nov", 9), ("17 Nov", 4)])
    ys = [point.y for point in chart.points]
    assert ys[0] < ys[1] < ys[2]  # SVG's y grows downwards
    assert [point.x for point in chart.points] == sorted(point.x for point in chart.points)


def test_an_empty_chart_still_draws_an_axis() -> None:
    chart = charts.line("Nothing yet", [])
    assert chart.points == [] and chart.ticks


def test_the_svg_is_well_formed_and_named_after_its_table() -> None:
    figure = render(charts.bars("Orders made", [("SHPO", 40), ("SRO", 3)]))
    svg = figure.find(f"{SVG}svg")
    assert svg is not None and svg.get("role") == "img"
    title = svg.find(f"{SVG}title")
    assert title is not None and "Orders made" in (title.text or "") and "table" in (title.text or "")
    assert svg.get("aria-labelledby") == title.get("id")
    assert len(svg.findall(f"{SVG}rect")) == 2
    assert "style=" not in ET.tostring(figure, encoding="unicode")  # nothing a strict CSP would block
