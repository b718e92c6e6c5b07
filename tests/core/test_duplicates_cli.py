"""`lookalike duplicates` on a real library: JSON shape, cumulative tiers, exports, --not-duplicates,
--trash with and without confirmation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.cli.main import main
from core.library.facade import Library
from tests.dupgen import plant


@pytest.fixture
def library_dir(tmp_path: Path, tiny_siglip_dir: Path) -> tuple[str, dict[str, list[Path]]]:
    sets = plant(tmp_path / "photos")
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as library:
        library.add_folder(tmp_path / "photos")
        library.update()
    return str(tmp_path / "data"), sets


def _groups(capsys: pytest.CaptureFixture[str], data: str, *args: str) -> list[dict]:
    assert main(["duplicates", "--data-dir", data, "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)["groups"]


def test_json_lists_groups_with_keeper_members_and_bytes_and_tiers_are_cumulative(
    library_dir: tuple[str, dict[str, list[Path]]], capsys: pytest.CaptureFixture[str]
) -> None:
    data, sets = library_dir
    [same] = _groups(capsys, data)  # the default tier is "same"
    assert same["tier"] == "same" and same["keep"] == str(sets["same"][0])
    members = {m["path"]: m for m in same["members"]}
    assert set(members) == {str(p) for p in sets["same"]}  # the keeper included
    assert all(m["bytes"] == Path(p).stat().st_size for p, m in members.items())
    assert same["reclaimable_bytes"] == sum(m["bytes"] for p, m in members.items() if p != same["keep"])
    assert members[same["keep"]]["score"] == 1.0

    exact, near = _groups(capsys, data, "--tier", "exact"), _groups(capsys, data, "--tier", "near", "--threshold", "0.85")
    grouped = lambda gs: {m["path"] for g in gs for m in g["members"]}  # noqa: E731
    assert grouped(exact) <= grouped([same]) <= grouped(near)
    assert str(sets["crop"][0]) in grouped(near) and str(sets["crop"][0]) not in grouped([same])


def test_folder_narrows_to_groups_touching_it_and_exports_write_csv_and_json(
    library_dir: tuple[str, dict[str, list[Path]]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data, sets = library_dir
    assert _groups(capsys, data, "--folder", str(tmp_path / "photos" / "downloads"))
    camera = tmp_path / "photos" / "camera"
    assert [g["keep"] for g in _groups(capsys, data, "--folder", str(camera))] == [str(sets["same"][0])]

    assert main(["duplicates", "--data-dir", data, "--export", str(tmp_path / "dups.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "dups.csv").open()))
    assert sorted(r["path"] for r in rows) == sorted(str(p) for p in sets["same"])
    assert [r["path"] for r in rows if r["keep"] == "yes"] == [str(sets["same"][0])]
    assert main(["duplicates", "--data-dir", data, "--export", str(tmp_path / "dups.json")]) == 0
    assert json.loads((tmp_path / "dups.json").read_text())["groups"][0]["keep"] == str(sets["same"][0])
    capsys.readouterr()
    assert main(["duplicates", "--data-dir", data, "--export", str(tmp_path / "dups.txt")]) == 2
    assert "export to a .csv or .json file" in capsys.readouterr().err


def test_not_duplicates_recorded_from_the_command_line_holds_for_later_runs(
    library_dir: tuple[str, dict[str, list[Path]]], capsys: pytest.CaptureFixture[str]
) -> None:
    data, sets = library_dir
    mail, small = (str(p) for p in sets["same"][2:4])
    assert main(["duplicates", "--data-dir", data, "--not-duplicates", mail, small]) == 0
    [same] = _groups(capsys, data)
    paths = {m["path"] for m in same["members"]}
    assert not (mail in paths and small in paths)
    assert main(["duplicates", "--data-dir", data, "--not-duplicates", mail, "/nowhere/x.jpg"]) == 2
    assert "is not a photo in this library" in capsys.readouterr().err


def test_trash_asks_first_and_with_yes_moves_every_non_keeper(
    library_dir: tuple[str, dict[str, list[Path]]], capsys: pytest.CaptureFixture[str], trash: Path
) -> None:
    data, sets = library_dir
    # Not a terminal and no --yes: refused, nothing moved.
    assert main(["duplicates", "--data-dir", data, "--trash"]) == 2
    assert "--yes" in capsys.readouterr().err and all(p.exists() for p in sets["same"])

    assert main(["duplicates", "--data-dir", data, "--trash", "--yes"]) == 0
    err = capsys.readouterr().err
    assert f"moved {len(sets['same']) - 1} file(s)" in err
    assert sets["same"][0].exists() and not any(p.exists() for p in sets["same"][1:])
    assert sorted(p.name for p in (trash / "files").iterdir()) == sorted(p.name for p in sets["same"][1:])
    assert _groups(capsys, data) == []


def test_bad_arguments_get_a_clear_message(library_dir: tuple[str, dict[str, list[Path]]], capsys: pytest.CaptureFixture[str]) -> None:
    data, _ = library_dir
    assert main(["duplicates", "--data-dir", data, "--threshold", "0.5"]) == 2
    assert "threshold must be between 0.8 and 1.0" in capsys.readouterr().err


def test_while_the_app_owns_the_library_the_writes_are_handed_to_it(
    library_dir: tuple[str, dict[str, list[Path]]], capsys: pytest.CaptureFixture[str], trash: Path,
    tiny_siglip_dir: Path,
) -> None:
    from core.session.owner import LibraryOwner

    data, sets = library_dir
    owner = LibraryOwner(Library(data, model=str(tiny_siglip_dir), workers=0))  # serves requests, as the app does
    owner.start()
    try:
        mail, small = (str(p) for p in sets["same"][2:4])
        assert main(["duplicates", "--data-dir", data, "--not-duplicates", mail, small]) == 0
        assert "handing this to it" in capsys.readouterr().err  # the decision goes to the owner
        [group] = _groups(capsys, data)
        others = [m["path"] for m in group["members"] if m["path"] != group["keep"]]
        assert not {mail, small} <= {m["path"] for m in group["members"]}
        assert main(["duplicates", "--data-dir", data, "--trash", "--yes"]) == 0
        err = capsys.readouterr().err
        assert "moving the files here, then asking it to update" in err  # the trash: never handed over
        assert f"moved {len(others)} file(s)" in err and not any(Path(p).exists() for p in others)
        # The owner's library dropped the trashed photos at once (it updated when asked).
        assert {p.path for p in owner.library.photos()}.isdisjoint(others)
    finally:
        owner.close()
    assert sets["same"][0].exists()
    assert any((trash / "files").iterdir())


def test_the_channel_to_the_owner_takes_decisions_but_never_a_file_move() -> None:
    from core.session.handoff_wire import ProtocolError, parse_request

    ok = parse_request({"op": "decide_duplicates", "args": {"hashes": ["ab12", "cd34"], "decision": "distinct"}})
    assert ok.args == {"hashes": ["ab12", "cd34"], "decision": "distinct"}
    for bad in ({"hashes": ["../etc"], "decision": "distinct"}, {"hashes": ["ab"], "decision": "delete"},
                {"hashes": [], "decision": "kept"}):
        with pytest.raises(ProtocolError):
            parse_request({"op": "decide_duplicates", "args": bad})
    with pytest.raises(ProtocolError, match="unknown op"):
        parse_request({"op": "trash", "args": {}})
