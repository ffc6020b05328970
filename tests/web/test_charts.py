"""The SVG chart helpers: well-formed, accessible, escaped, styled without style attributes,
and drawn where the figures say."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from townhall.web.charts import Bar, Series, Span, bar_chart, line_chart, nice_step, timeline

NS = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _all_attributes(root: ET.Element) -> set[str]:
    return {name for element in root.iter() for name in element.attrib}


def test_bar_chart_draws_each_bar_to_scale_with_escaped_labels() -> None:
    svg = bar_chart(
        chart_id="airtime",
        title="Airtime <per> city",
        desc="Seconds & turns",
        bars=[
            Bar("Paris", 120, "2 min"),
            Bar("<script>", 60, "1 min"),
            Bar("A question far too long to fit beside its bar", 0, "0"),
        ],
    )

    root = _parse(svg)
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-labelledby"] == "airtime-title airtime-desc"
    assert root.find(f"{NS}title").text == "Airtime <per> city"
    assert root.find(f"{NS}desc").text == "Seconds & turns"
    assert [(r.attrib["x"], r.attrib["width"]) for r in root.iter(f"{NS}rect")] == [
        ("200", "350"),
        ("200", "175"),
        ("200", "0"),
    ]
    labels = [t.text for t in root.iter(f"{NS}text") if t.attrib.get("class") == "chart-label"]
    assert labels == ["Paris", "<script>", "A question far too long to…"]
    assert "<script>" not in svg and "style" not in _all_attributes(root)
    assert svg.__html__() == str(svg)


def test_line_chart_scales_points_to_a_nice_axis() -> None:
    svg = line_chart(
        chart_id="attendance",
        title="Attendance",
        desc="People in the room",
        series=[Series("Audience", [(0, 0), (60, 8), (120, 4)]), Series("Panel", [(0, 2)])],
        x_labels=[(0, "13:05"), (120, "13:07")],
        area=True,
    )

    root = _parse(svg)
    lines = [p.attrib["points"] for p in root.iter(f"{NS}polyline")]
    # x: 44..628 over 0..120 s; y: 212..28 over 0..8 people (step 2).
    assert lines == ["44,212 336,28 628,120", "44,166"]
    labels = [(t.text, t.attrib.get("text-anchor")) for t in root.iter(f"{NS}text")]
    assert labels[:7] == [
        ("0", "end"),
        ("2", "end"),
        ("4", "end"),
        ("6", "end"),
        ("8", "end"),
        ("13:05", "start"),
        ("13:07", "end"),
    ]
    assert [p.attrib["class"] for p in root.iter(f"{NS}polygon")] == ["chart-area", "chart-area"]
    dots = [(c.attrib["cx"], c.attrib["cy"]) for c in root.iter(f"{NS}circle")]
    assert dots == [("44", "212"), ("336", "28"), ("628", "120"), ("44", "166")]
    assert "style" not in _all_attributes(root)


def test_timeline_puts_each_speaker_on_a_lane() -> None:
    svg = timeline(
        chart_id="speakers",
        title="Who spoke when",
        desc="Turns",
        spans=[
            Span("Sameh", 0, 100, "Sameh 1:40"),
            Span("Lina", 100, 150, "Lina 0:50"),
            Span("Sameh", 150, 200, "Sameh 0:50"),
        ],
        x_labels=[(0, "13:05")],
    )

    rects = [
        (r.attrib["x"], r.attrib["y"], r.attrib["width"]) for r in _parse(svg).iter(f"{NS}rect")
    ]
    assert rects == [("160", "9", "234"), ("394", "33", "117"), ("511", "9", "117")]


def test_empty_charts_say_so() -> None:
    svg = bar_chart(chart_id="none", title="Nothing", desc="No turns", bars=[])

    assert [t.text for t in _parse(svg).iter(f"{NS}text")] == ["No data yet"]


def test_nice_step_is_one_two_or_five_times_a_power_of_ten() -> None:
    assert [nice_step(v) for v in (0, 3, 8, 9, 130, 4000)] == [1, 1, 2, 5, 50, 1000]
