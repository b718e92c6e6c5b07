"""The `lookalike eval --report` page: one self-contained HTML file (thumbnails inlined as JPEG data URIs).

Sections: a header (set, date, models), the metric table (best value per column highlighted), the text
queries' table (each class's name as a query, and the model's own match cut checked on the labels), what the
metrics mean, the images that were skipped, and for a sample of queries each model's top 5 side by side
with wrong-class results marked by colour, a ✗ and a text label (so the marking survives without colour).
Every path and label is escaped: they come from the user's file system.
"""

from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path

from core.errors import DecodeError
from core.eval.evaluation import Evaluation
from core.imaging.decode import open_image
from core.library.searching import MATCH_THRESHOLD

THUMB_PX = 96
SAMPLE_QUERIES = 12
TOP_K = 5

_COLUMNS = [  # (JSON name, column title)
    ("mAP", "mAP"),
    ("precision@1", "P@1"),
    ("precision@5", "P@5"),
    ("precision@10", "P@10"),
    ("recall@10", "R@10"),
    ("images_per_s", "images/s"),
]

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 24px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.best { background: #d8f5d0; font-weight: bold; }
.hit { display: inline-block; width: 104px; margin: 2px; text-align: center; font-size: 12px; }
.hit img, .query img { border: 3px solid #2a8a2a; display: block; margin: 0 auto; }
.hit.wrong img { border-color: #d22; }
.hit .mark { font-weight: bold; }
.hit.wrong .mark { color: #d22; }
.query img { border-color: #555; }
.label { color: #555; overflow-wrap: anywhere; }
"""


def write_report(evaluation: Evaluation, path: str | Path) -> Path:
    """Write the report to `path` (UTF-8) and return it."""
    path = Path(path)
    path.write_text(render_report(evaluation), encoding="utf-8")
    return path


def render_report(evaluation: Evaluation) -> str:
    thumbs = _Thumbnails(evaluation)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Lookalike model comparison: {escape(evaluation.source)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        _header(evaluation),
        _metric_table(evaluation),
        _text_table(evaluation),
        _definitions(),
        _skipped(evaluation),
        _queries(evaluation, thumbs),
        "</body></html>",
    ]
    return "\n".join(parts)


def _header(ev: Evaluation) -> str:
    models = ", ".join(f"{escape(run.model)} ({escape(run.key)})" for run in ev.runs)
    return (
        '<header id="header"><h1>Model comparison</h1>'
        f"<p>Labelled set: <code>{escape(ev.source)}</code><br>"
        f"Date: {escape(ev.date.strftime('%Y-%m-%d %H:%M'))}<br>"
        f"Models: {models}<br>"
        f"{len(ev.images)} images in {len(ev.classes)} classes; every image queries all the others.</p>"
        "</header>"
    )


def _metric_table(ev: Evaluation) -> str:
    rows = [(run.model, run.numbers()) for run in ev.runs]
    head = "".join(f"<th>{title}</th>" for _, title in _COLUMNS)
    body = []
    for model, numbers in rows:
        cells = []
        for name, _ in _COLUMNS:
            column = [n[name] for _, n in rows]
            value = numbers[name]
            shown = f"{value:.1f}" if name == "images_per_s" else f"{value:.4f}"
            # Mark the best only where the models differ: a column of equal numbers crowns nobody.
            best = value == max(column) and min(column) != max(column)
            cells.append(f'<td class="best">{shown}</td>' if best else f"<td>{shown}</td>")
        body.append(f"<tr><td>{escape(model)}</td>{''.join(cells)}</tr>")
    return (
        '<section id="metrics"><h2>Metrics</h2>'
        f"<table><thead><tr><th>model</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "<p>Best value per column highlighted (higher is better everywhere).</p></section>"
    )


_TEXT_COLUMNS = [  # (key in TextMetrics.as_dict(), column title)
    ("mAP", "mAP"),
    ("precision@1", "P@1"),
    ("precision@5", "P@5"),
    ("recall@10", "R@10"),
    ("match_precision", "match precision"),
    ("match_recall", "match recall"),
]


def _text_table(ev: Evaluation) -> str:
    texts = [(run.model, run.text) for run in ev.runs if run.text is not None]
    if not texts:
        return ""
    rows = [(model, t.numbers()) for model, t in texts]
    head = "".join(f"<th>{title}</th>" for _, title in _TEXT_COLUMNS)
    body = []
    for (model, text), (_, numbers) in zip(texts, rows, strict=True):
        cells = []
        for name, _ in _TEXT_COLUMNS:
            value, column = numbers[name], [v for _, n in rows if (v := n[name]) is not None]
            if value is None:  # no pair reached the threshold: no precision
                cells.append('<td title="the model called nothing a match">–</td>')
                continue
            best = value == max(column) and min(column) != max(column)
            cells.append(f'<td class="best">{value:.4f}</td>' if best else f"<td>{value:.4f}</td>")
        scale, bias = text.calibration
        body.append(f"<tr><td>{escape(model)} <small>(scale {scale:.3g}, bias {bias:.3g})</small></td>"
                    f"{''.join(cells)}</tr>")
    return (
        '<section id="text"><h2>Text queries</h2>'
        "<p>Each class's folder name is a text query (underscores read as spaces) that ranks every image. "
        f"A (class, image) pair is a <b>match</b> when the model's own probability, sigmoid(scale &times; "
        f"cosine + bias), reaches {MATCH_THRESHOLD:g}: the cut the app's text search uses. Match precision: "
        "the share of matches in the right class; match recall: the share of images matched by their own "
        "class's name.</p>"
        f"<table><thead><tr><th>model</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></section>"
    )


def _definitions() -> str:
    return (
        '<section id="definitions"><h2>What the numbers mean</h2><ul>'
        "<li>Each image is a query against all the other images; a result is right when it has the same "
        "class.</li>"
        "<li><b>P@k</b> (precision at k): the share of the k best matches that are right.</li>"
        "<li><b>R@10</b> (recall at 10): the share of the query's class found in the 10 best matches.</li>"
        "<li><b>mAP</b> (mean average precision): for each query, the precision at the rank of each right "
        "image, averaged; then averaged over queries. 1.0 means every right image ranks above every "
        "wrong one.</li>"
        "<li><b>images/s</b>: images decoded and embedded per second on this computer.</li>"
        "</ul></section>"
    )


def _skipped(ev: Evaluation) -> str:
    if not ev.skipped:
        return '<section id="skipped"><h2>Skipped images</h2><p>None: every image was read.</p></section>'
    items = "".join(f"<li><code>{escape(p)}</code>: {escape(r)}</li>" for p, r in ev.skipped)
    return (
        f'<section id="skipped"><h2>Skipped images ({len(ev.skipped)})</h2>'
        f"<p>These could not be read and were left out for every model.</p><ul>{items}</ul></section>"
    )


def sample_queries(labels: list[str], limit: int = SAMPLE_QUERIES) -> list[int]:
    """Up to `limit` image indices, round-robin over the classes (sorted), so every class shows early."""
    by_class: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    members = [by_class[label] for label in sorted(by_class)]
    picked: list[int] = []
    depth = 0
    while len(picked) < limit and any(depth < len(m) for m in members):
        picked += [m[depth] for m in members if depth < len(m)][: limit - len(picked)]
        depth += 1
    return picked


def _queries(ev: Evaluation, thumbs: _Thumbnails) -> str:
    labels = ev.labels
    head = "".join(f"<th>{escape(run.model)}: top {TOP_K}</th>" for run in ev.runs)
    rows = []
    for q in sample_queries(labels):
        cells = [f'<td class="query">{thumbs.img(q)}<div class="label">{escape(labels[q])}</div></td>']
        for run in ev.runs:
            top = ev.top_k(run, q, TOP_K)
            hits = "".join(_hit(thumbs, i, score, labels[i], labels[i] == labels[q]) for i, score in top)
            cells.append(f"<td>{hits}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<section id="queries"><h2>Sample queries</h2>'
        "<p>Each row: a query image and each model's best matches among the other images. "
        "Green border and ✓: same class. Red border and ✗: wrong class.</p>"
        f"<table><thead><tr><th>query</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _hit(thumbs: _Thumbnails, index: int, score: float, label: str, right: bool) -> str:
    mark = f'<span class="mark">{"✓ right class" if right else "✗ wrong class"}</span>'
    return (
        f'<div class="hit{"" if right else " wrong"}">{thumbs.img(index)}'
        f"{mark}<div>{score:.3f}</div><div class=\"label\">{escape(label)}</div></div>"
    )


class _Thumbnails:
    """Small JPEG data URIs, made once per image that the page shows."""

    def __init__(self, ev: Evaluation) -> None:
        self._ev = ev
        self._cache: dict[int, str] = {}

    def img(self, index: int) -> str:
        if index not in self._cache:
            self._cache[index] = self._make(index)
        item = self._ev.images[index]
        return f'<img src="{self._cache[index]}" alt="{escape(item.path)}" title="{escape(item.path)}">'

    def _make(self, index: int) -> str:
        try:
            image = open_image(self._ev.images[index].path, target=THUMB_PX)
        except DecodeError:
            return ""  # changed on disk since it was embedded; the alt text still names it
        image.thumbnail((THUMB_PX, THUMB_PX))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
        return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
