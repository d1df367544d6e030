"""The dashboard's server-side SVG charts: geometry, thresholds, escaping."""

from __future__ import annotations

import re
from datetime import date

from crmsync.web.charts import LEFT, RIGHT, Bar, W, bar_chart, histogram, line_chart


def test_histogram_bins_scores_and_draws_both_thresholds_where_they_are() -> None:
    svg = str(histogram("scores", {"links": [0.97, 0.99, 0.99], "suggestions": [0.72, 0.74, 0.9]},
                        {"review": 0.7, "auto-merge": 0.95}))
    lines = [float(x) for x in re.findall(r'<line x1="([\d.]+)"[^>]*class="threshold"', svg)]
    width = W - LEFT - RIGHT
    assert lines == [LEFT + width * 0.7, LEFT + width * 0.95]
    assert "review 0.70" in svg and "auto-merge 0.95" in svg
    assert "suggestions 0.70–0.75: 2" in svg and "links 0.95–1.00: 3" in svg  # bar titles name bin and count


def test_labels_are_escaped_and_empty_data_draws_nothing() -> None:
    svg = str(line_chart("records", {"<script>x</script>": {date(2026, 1, 1): 2, date(2026, 1, 2): 3}}))
    assert "<script>" not in svg and "&lt;script&gt;x&lt;/script&gt; (5)" in svg  # running total in the legend
    assert line_chart("records", {}) is None
    assert bar_chart("dups", [], ("a",)) is None
    assert histogram("scores", {"links": []}, {"review": 0.7}) is None


def test_stacked_bars_are_as_tall_as_their_sum() -> None:
    svg = str(bar_chart("dups", [Bar("r1", (2, 2)), Bar("r2", (4, 0))], ("merged", "suggested")))
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill', svg)]
    assert heights[0] + heights[1] == heights[2]  # 2+2 is as tall as 4
