"""Charts draw the same picture from the same rows, whatever order the rows come in."""

from __future__ import annotations

import matplotlib.pyplot as plt
import polars as pl

from pipelines.lib.charts import per_request_footprints


def test_per_request_points_with_equal_values_keep_one_order() -> None:
    rows = pl.DataFrame(
        {
            "quantity": ["water"] * 3 + ["energy"],
            "subject": ["Gemini Apps", "Gemini Apps", "ChatGPT", "ChatGPT"],
            "source_id": ["b-doc", "a-doc", "c-doc", "c-doc"],
            "value": [0.26, 0.26, 500.0, 0.3],
            "low": [None, None, None, None],
            "high": [None, None, None, None],
        },
        schema_overrides={"low": pl.Float64, "high": pl.Float64},
    )

    def labels(frame: pl.DataFrame) -> list[str]:
        figure = per_request_footprints(frame)
        found = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
        plt.close(figure)
        return found

    expected = ["Gemini Apps (a-doc)", "Gemini Apps (b-doc)", "ChatGPT (c-doc)"]
    assert labels(rows) == expected
    assert labels(rows.reverse()) == expected
