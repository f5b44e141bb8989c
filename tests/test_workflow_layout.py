"""Where the workflow editor's graph places statuses: left to right along the way forward,
steps back (验收不通过) not pushing a status right, unreachable ones in a last column."""

from __future__ import annotations

from fuwu.demo.workflows import REPAIR
from fuwu.workflows.definition import Definition
from fuwu.workflows.editor import COLUMN, layout


def test_statuses_go_left_to_right_along_the_way_forward():
    placed = layout(Definition.model_validate(REPAIR))
    column = {status: (x - 40) // COLUMN for status, (x, _) in placed.items()}
    assert column["received"] == 0
    order = ["received", "dispatched", "onsite", "processing", "checking", "callback", "done"]
    assert [column[s] for s in order] == sorted(column[s] for s in order)
    assert column["done"] == max(column.values())  # 取消 leads there early, 回访完成 last
    assert column["waiting_parts"] == column["processing"] + 1
    assert len(set(placed.values())) == len(placed)  # no two statuses on one spot


def test_a_status_no_step_reaches_goes_last():
    raw = {"name": {"zh_CN": "x", "en": "x"}, "statuses": ["a", "b", "lost"], "initial": "a",
           "transitions": [{"key": "go", "from": ["a"], "to": "b",
                            "label": {"zh_CN": "走", "en": "Go"}},
                           {"key": "back", "from": ["b"], "to": "a",
                            "label": {"zh_CN": "回", "en": "Back"}}]}  # fmt: skip
    placed = layout(Definition.model_validate(raw))
    assert placed["a"][0] < placed["b"][0] < placed["lost"][0]
