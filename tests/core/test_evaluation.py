"""`lookalike eval`: metrics checked by hand, and whole runs of two tiny models on a generated set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.eval.evaluation import DatasetError, Evaluation, evaluate, load_labelled
from core.eval.metrics import label_codes, metrics_from_scores, metrics_from_vectors, per_query, rank_others
from core.eval.report import render_report, sample_queries
from core.eval.text_metrics import class_query, text_metrics
from tests.labelled import CLASSES, write_labelled_set

# -- the metrics, by hand ---------------------------------------------------------------------------------

# Five images, labels A A B B C. Row q holds query q's scores; the diagonal (9) must be ignored.
HAND_LABELS = ["A", "A", "B", "B", "C"]
HAND_SCORES = np.array([
    [9, 0.9, 0.8, 0.1, 0.0],  # ranking 1 2 3 4: relevant at rank 1            -> AP 1,   P@1 1
    [0.5, 9, 0.5, 0.2, 0.6],  # ranking 4 0 2 3 (0 before 2: tie, input order) -> AP 1/2, P@1 0
    [0.3, 0.3, 9, 0.3, 0.5],  # ranking 4 0 1 3 (three tied): relevant at rank 4 -> AP 1/4, P@1 0
    [0.1, 0.2, 0.7, 9, 0.0],  # ranking 2 1 0 4: relevant at rank 1            -> AP 1,   P@1 1
    [0.1, 0.2, 0.3, 0.4, 9],  # C has no other member: left out of every mean
])


def test_metrics_match_a_hand_computed_ranking() -> None:
    m = metrics_from_scores(HAND_SCORES, HAND_LABELS)
    assert m.mAP == pytest.approx((1 + 1 / 2 + 1 / 4 + 1) / 4)
    # One relevant image in each top 4, and k is always the denominator.
    assert m.precision == pytest.approx({1: 0.5, 5: 1 / 5, 10: 1 / 10})
    assert m.recall_at_10 == pytest.approx(1.0)
    assert (m.queries, m.queries_without_relevant) == (4, 1)


def test_equal_scores_rank_in_input_order_and_the_query_never_ranks_itself() -> None:
    order = rank_others(HAND_SCORES, np.arange(5))
    assert order.tolist() == [[1, 2, 3, 4], [4, 0, 2, 3], [4, 0, 1, 3], [2, 1, 0, 4], [3, 2, 1, 0]]


def test_precision_and_recall_at_k_on_a_long_ranking() -> None:
    # Query 0 (A) ranks items 1..12 in order; the A items are 1, 3, 11 and 12.
    labels = ["A", "A", "B", "A"] + ["B"] * 7 + ["A", "A"]
    scores = np.zeros((13, 13))
    scores[0, 1:] = -np.arange(1, 13)
    q = per_query(scores[:1], np.array([0]), label_codes(labels))
    assert q.ap[0] == pytest.approx((1 / 1 + 2 / 3 + 3 / 11 + 4 / 12) / 4)
    assert (q.precision[1][0], q.precision[5][0], q.precision[10][0]) == pytest.approx((1, 2 / 5, 2 / 10))
    assert q.recall_at_10[0] == pytest.approx(2 / 4)  # items 11 and 12 fall outside the top 10


def test_hand_built_vectors_are_ranked_by_cosine_similarity() -> None:
    angles = np.radians([0, 15, 90, 100, 40])  # unit vectors in a plane; image 4 sits between the groups
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    # Rankings by cosine: 0 -> 1 4 2 3; 1 -> 0 4 2 3; 2 -> 3 4 1 0; 3 -> 2 4 1 0; 4 -> 1 0 2 3.
    m = metrics_from_vectors(vectors, ["A", "A", "B", "B", "A"])
    assert m.mAP == pytest.approx(1.0)  # every query's own group ranks above the other
    assert m.precision[1] == pytest.approx(1.0)
    flipped = metrics_from_vectors(vectors, ["A", "A", "B", "B", "B"])
    # Queries 0-3 keep AP 1; query 4 (now B) finds its B images at ranks 3 and 4.
    assert flipped.mAP == pytest.approx((4 + (1 / 3 + 2 / 4) / 2) / 5)
    assert flipped.precision[1] == pytest.approx(4 / 5)
    assert flipped.recall_at_10 == pytest.approx(1.0)


# -- text queries, by hand --------------------------------------------------------------------------------

def _plane(*degrees: float) -> np.ndarray:
    angles = np.radians(degrees)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)


# Images of class A at 0, 10, 20 degrees and of class B at 90, 100; each class's text between its images.
TEXT_IMAGES, TEXT_LABELS = _plane(0, 10, 20, 90, 100), ["A", "A", "A", "B", "B"]
RIGHT_TEXTS = _plane(5, 95)


def test_a_class_whose_name_the_model_matches_perfectly_scores_one() -> None:
    m = text_metrics(RIGHT_TEXTS, ["A", "B"], TEXT_IMAGES, TEXT_LABELS, calibration=(10.0, -5.0))
    assert (m.mAP, m.precision[1], m.recall_at_10) == pytest.approx((1.0, 1.0, 1.0))
    assert m.precision[5] == pytest.approx((3 / 5 + 2 / 5) / 2)  # k stays the denominator
    # sigmoid(10 cos - 5) >= 0.5 where cos >= 0.5: every image within 60 degrees of its class's text only.
    assert (m.match_precision, m.match_recall, m.matches) == pytest.approx((1.0, 1.0, 5))


def test_text_queries_that_find_the_other_class_first_score_by_the_formulas() -> None:
    m = text_metrics(_plane(95, 5), ["A", "B"], TEXT_IMAGES, TEXT_LABELS, calibration=(10.0, -5.0))
    # A's text ranks B B A A A; B's text ranks A A A B B.
    assert m.mAP == pytest.approx(((1 / 3 + 2 / 4 + 3 / 5) / 3 + (1 / 4 + 2 / 5) / 2) / 2)
    assert (m.precision[1], m.recall_at_10) == pytest.approx((0.0, 1.0))
    assert (m.match_precision, m.match_recall) == pytest.approx((0.0, 0.0))  # 5 matches, all wrong


def test_the_match_cut_is_the_models_own_calibration() -> None:
    def cut(scale: float, bias: float) -> tuple[float | None, float, int]:
        m = text_metrics(RIGHT_TEXTS, ["A", "B"], TEXT_IMAGES, TEXT_LABELS, calibration=(scale, bias))
        return m.match_precision, m.match_recall, m.matches

    # cos >= 0.99 (within 8.1 degrees): images 0, 10 for A and 90, 100 for B; 20 is 15 degrees off.
    assert cut(100.0, -99.0) == pytest.approx((1.0, 4 / 5, 4))
    assert cut(1.0, 50.0) == pytest.approx((5 / 10, 1.0, 10))  # every pair a match
    assert cut(1.0, -50.0) == (None, 0.0, 0)  # no pair: no precision to speak of


def test_a_class_folder_name_reads_as_words() -> None:
    assert class_query("golden_retriever") == class_query("golden retriever") == "golden retriever"
    assert class_query(" red__shoes ") == "red shoes"


# -- labelled sets ----------------------------------------------------------------------------------------
def test_class_folders_and_a_csv_describe_the_same_set(tmp_path: Path) -> None:
    root = tmp_path / "set"
    write_labelled_set(root, per_class=2)
    from_folders = load_labelled(root)
    lines = ["path,label"] + [
        f"{p.path if i % 2 else Path(p.path).relative_to(root)},{p.label}" for i, p in enumerate(from_folders)
    ]
    (root / "labels.csv").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    assert load_labelled(root / "labels.csv") == from_folders
    assert [p.label for p in from_folders].count("circles") == 4  # 2 members + exact copy + near copy
    assert [p.path for p in from_folders] == sorted(p.path for p in from_folders)


def test_a_csv_without_a_header_and_a_folder_holding_only_a_csv_work(tmp_path: Path) -> None:
    from tests.imagegen import write_photo

    write_photo(tmp_path / "a.jpg", seed=1, size=(64, 48))
    write_photo(tmp_path / "b.jpg", seed=2, size=(64, 48))
    (tmp_path / "set.csv").write_text(f"a.jpg,cat\n{tmp_path / 'b.jpg'},dog\n", encoding="utf-8")
    items = load_labelled(tmp_path)
    assert [(Path(i.path).name, i.label) for i in items] == [("a.jpg", "cat"), ("b.jpg", "dog")]


def test_a_malformed_csv_row_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("path,label\na.jpg\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="line 2"):
        load_labelled(tmp_path / "bad.csv")


def test_sample_queries_visit_every_class_before_repeating_one() -> None:
    labels = ["a"] * 6 + ["b"] * 2 + ["c"] * 5
    picked = sample_queries(labels, limit=7)
    assert [labels[i] for i in picked] == ["a", "b", "c", "a", "b", "c", "a"]
    assert picked == sample_queries(labels, limit=7)
    assert len(sample_queries(labels, limit=100)) == len(labels)


# -- whole runs with two tiny models ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def labelled_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("labelled") / "set"
    named = write_labelled_set(root)
    odd = root / '<b onclick="x">odd & class'  # user text that must be escaped in the report
    odd.mkdir()
    (odd / "one.jpg").write_bytes((root / "squares" / "squares_1.jpg").read_bytes())
    (odd / "two.jpg").write_bytes((root / "squares" / "squares_2.jpg").read_bytes())
    (root / "stripes" / "broken.jpg").write_bytes(b"not a picture")
    return root, named


@pytest.fixture(scope="module")
def evaluation(
    labelled_set: tuple[Path, dict[str, Path]], tiny_siglip_dir: Path, tiny_siglip2_dir: Path
) -> Evaluation:
    models = [str(tiny_siglip_dir), str(tiny_siglip2_dir), str(tiny_siglip_dir)]
    return evaluate(labelled_set[0], models, device="cpu")


def test_every_model_is_scored_on_every_readable_image(evaluation: Evaluation) -> None:
    assert len(evaluation.images) == 3 * 4 + 2 + 2
    assert [Path(p).name for p, _ in evaluation.skipped] == ["broken.jpg"]
    for run in evaluation.runs:
        assert run.embedded == len(evaluation.images) and run.images_per_s > 0
        assert run.vectors.shape[0] == len(evaluation.images)
        for name, value in run.numbers().items():
            assert name == "images_per_s" or 0.0 <= value <= 1.0


def test_every_model_answers_each_class_name_as_a_text_query(evaluation: Evaluation, tiny_siglip_dir: Path) -> None:
    from core.embedding.embedder import load_embedder

    calibration = load_embedder(str(tiny_siglip_dir), device="cpu", precision="fp32").match_calibration()
    for run in evaluation.runs:
        assert run.text is not None and run.text.classes == len(evaluation.classes) == 4
        for name, value in run.text.numbers().items():
            assert (name == "match_precision" and value is None) or (value is not None and 0.0 <= value <= 1.0)
    assert evaluation.runs[0].text is not None and evaluation.runs[0].text.calibration == pytest.approx(calibration)


def test_the_match_precision_and_recall_follow_each_models_calibration(
    labelled_set: tuple[Path, dict[str, Path]], evaluation: Evaluation, tiny_siglip_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from core.embedding.embedder import load_embedder
    from tests.tinymodels import set_match_calibration

    # Put the threshold of one calibrated copy between two of the model's own text-image cosines.
    classes = evaluation.classes
    texts = load_embedder(str(tiny_siglip_dir), device="cpu", precision="fp32").embed_texts(
        [class_query(c) for c in classes])
    cosines = texts @ evaluation.runs[0].vectors.T
    ranked = np.sort(cosines.ravel())
    bias = -20.0 * float(ranked[len(ranked) // 2] + ranked[len(ranked) // 2 + 1]) / 2
    called = cosines >= -bias / 20.0
    right = np.array([[label == c for label in evaluation.labels] for c in classes])
    copies = [
        set_match_calibration(Path(shutil.copytree(tiny_siglip_dir, tmp_path / name)), scale=20.0, bias=b)
        for name, b in (("middle", bias), ("all", 100.0), ("none", -100.0))
    ]
    middle, everything, nothing = evaluate(labelled_set[0], [str(c) for c in copies], device="cpu").runs
    assert middle.text is not None and everything.text is not None and nothing.text is not None
    assert middle.text.calibration == pytest.approx((20.0, bias), rel=1e-5)
    assert middle.text.matches == int(called.sum())
    assert middle.text.match_precision == pytest.approx((called & right).sum() / called.sum())
    assert middle.text.match_recall == pytest.approx((called & right).sum() / len(evaluation.images))
    assert (everything.text.match_precision, everything.text.match_recall) == pytest.approx((1 / 4, 1.0))
    assert (nothing.text.match_precision, nothing.text.match_recall) == (None, 0.0)
    assert middle.text.mAP == pytest.approx(evaluation.runs[0].text.mAP)  # a ranking ignores the calibration


def test_the_same_model_twice_gives_identical_numbers(evaluation: Evaluation) -> None:
    first, other, again = evaluation.runs
    assert first.metrics == again.metrics
    assert np.array_equal(first.vectors, again.vectors)
    assert first.key != other.key and not np.allclose(first.vectors[:, :4], other.vectors[:, :4])


def test_an_exact_copy_is_the_first_match_of_its_original(
    evaluation: Evaluation, labelled_set: tuple[Path, dict[str, Path]]
) -> None:
    paths = [im.path for im in evaluation.images]
    original, copy = paths.index(str(labelled_set[1]["original"])), paths.index(str(labelled_set[1]["copy"]))
    codes = label_codes(evaluation.labels)
    for run in evaluation.runs:
        for query, twin in ((original, copy), (copy, original)):
            assert evaluation.top_k(run, query, 1)[0][0] == twin
            q = per_query(run.vectors[[query]] @ run.vectors.T, np.array([query]), codes)
            assert q.precision[1][0] == 1.0


def test_the_report_holds_every_section_with_inlined_thumbnails(evaluation: Evaluation) -> None:
    html = render_report(evaluation)
    for section in ('id="header"', 'id="metrics"', 'id="text"', 'id="definitions"', 'id="skipped"',
                    'id="queries"'):
        assert section in html
    text_rows = html.split('id="text"')[1].split("</section>")[0].count("<tr><td>")
    assert text_rows == len(evaluation.runs)
    assert "broken.jpg" in html
    assert re.findall(r'<img src="([^"]*)"', html) and all(
        src.startswith("data:image/jpeg;base64,") for src in re.findall(r'<img src="([^"]*)"', html)
    )
    assert "http://" not in html and "https://" not in html  # self-contained
    assert '<b onclick="x">' not in html and "&lt;b onclick=&quot;x&quot;&gt;odd &amp; class" in html
    query_rows = re.findall(r'<td class="query">', html)
    assert len(query_rows) == min(12, len(evaluation.images))
    per_row = 3 * 5  # three model runs, top 5 each
    assert html.count('class="hit') == len(query_rows) * per_row
    wrong = html.count('<div class="hit wrong">')
    assert wrong == html.count("✗ wrong class")
    assert wrong + html.count("✓ right class") == len(query_rows) * per_row
    for cls in CLASSES:
        assert f'<div class="label">{cls}</div></td>' in html  # every class has a sampled query


def test_cli_eval_prints_json_and_writes_the_report(
    labelled_set: tuple[Path, dict[str, Path]], tiny_siglip_dir: Path, tiny_siglip2_dir: Path,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    report = tmp_path / "out.html"
    models = f"{tiny_siglip_dir},{tiny_siglip2_dir}"
    code = main(["eval", str(labelled_set[0]), "--models", models, "--json", "--report", str(report)])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert [m["model"] for m in summary["models"]] == [str(tiny_siglip_dir), str(tiny_siglip2_dir)]
    for m in summary["models"]:
        assert {"mAP", "precision@1", "precision@5", "precision@10", "recall@10", "images_per_s"} <= set(m)
        text = m["text"]
        assert {"mAP", "precision@1", "precision@5", "recall@10", "match_precision", "match_recall"} <= set(text)
        assert text["match_threshold"] == 0.5 and set(text["calibration"]) == {"scale", "bias"}
    assert "broken.jpg" in err  # skipped images are reported, not fatal
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_eval_refuses_a_set_with_one_class_or_no_images(
    tmp_path: Path, tiny_siglip_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.imagegen import write_photo

    write_photo(tmp_path / "one" / "only" / "a.jpg", seed=1, size=(64, 48))
    write_photo(tmp_path / "one" / "only" / "b.jpg", seed=2, size=(64, 48))
    (tmp_path / "empty").mkdir()
    for folder, message in (("one", "at least 2"), ("empty", "no images")):
        assert main(["eval", str(tmp_path / folder), "--models", str(tiny_siglip_dir)]) == 2
        assert message in capsys.readouterr().err


def test_cli_eval_prints_a_readable_table(
    labelled_set: tuple[Path, dict[str, Path]], tiny_siglip_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(labelled_set[0]), "--models", str(tiny_siglip_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("16 images, 4 classes")
    assert "mAP" in lines[1] and lines[2].startswith(str(tiny_siglip_dir))
    assert lines[4].startswith("text queries: each class's name (4)") and "match_recall" in lines[5]
    assert lines[6].startswith(str(tiny_siglip_dir))


def test_cli_eval_rejects_an_unknown_model_before_running_any(
    labelled_set: tuple[Path, dict[str, Path]], tiny_siglip_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["eval", str(labelled_set[0]), "--models", f"{tiny_siglip_dir},no-such-model"])
    err = capsys.readouterr().err
    assert code == 3 and "no-such-model" in err
    assert "embedding" not in err  # no progress: the first model never ran
