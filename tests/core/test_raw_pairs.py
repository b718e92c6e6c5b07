"""A RAW+JPEG pair (one shot, two files) is one photo in results, shown by its JPEG, the RAW within reach."""

from __future__ import annotations

from core.library.raw_pairs import find_pairs
from core.library.settings import Settings, SettingsError


def test_a_raw_beside_a_jpeg_of_the_same_name_is_represented_by_the_jpeg() -> None:
    pairs = find_pairs([
        (1, "/p/IMG_0001.JPG"), (2, "/p/IMG_0001.CR2"),  # the camera's RAW+JPEG, upper case
        (3, "/p/IMG_0002.cr3"),  # a RAW alone stays a photo
        (4, "/p/other/IMG_0001.NEF"),  # same name in another folder: not a pair
        (5, "/p/sunset.jpeg"), (6, "/p/sunset.dng"), (7, "/p/sunset.png"),
    ])
    assert pairs.hidden == {2, 6}
    assert pairs.companions == {1: ("/p/IMG_0001.CR2",), 5: ("/p/sunset.dng",)}


def test_the_raw_pairs_setting_takes_one_or_both() -> None:
    assert Settings().raw_pairs == "one"
    assert Settings().with_value("raw_pairs", ["both"]).raw_pairs == "both"
    try:
        Settings().with_value("raw_pairs", ["two"])
    except SettingsError as error:
        assert "one, both" in str(error)
    else:
        raise AssertionError("an unknown value was accepted")


def test_a_library_shows_a_raw_and_jpeg_pair_once_and_both_when_asked(tmp_path, tiny_siglip_dir) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from core.library.facade import Library
    from tests.dnggen import write_dng
    from tests.imagegen import write_photo

    folder = tmp_path / "shoot"
    write_photo(folder / "IMG_0001.JPG", seed=1)
    write_dng(folder / "IMG_0001.DNG")  # the same shot's RAW
    write_dng(folder / "IMG_0002.DNG")  # a RAW alone
    write_photo(folder / "other.jpg", seed=2)
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as library:
        library.add_folder(folder)
        library.update()
        assert library.status().counts.indexed == 4  # every file is indexed; only results pair them
        results = library.search_image(folder / "other.jpg", k=10)
        names = sorted(r.path.rsplit("/", 1)[1] for r in results)
        assert names == ["IMG_0001.JPG", "IMG_0002.DNG", "other.jpg"]
        jpeg = next(r for r in results if r.path.endswith("IMG_0001.JPG"))
        assert jpeg.companions == (str(folder / "IMG_0001.DNG"),)
        # The grid lists the pair once too, and a change record never brings its RAW back in.
        listed = sorted(p.path.rsplit("/", 1)[1] for p in library.photos())
        assert listed == ["IMG_0001.JPG", "IMG_0002.DNG", "other.jpg"]
        raw_id = library.store.photo_by_path(str(folder / "IMG_0001.DNG")).id  # type: ignore[union-attr]
        assert raw_id not in library.photos_by_ids([raw_id])

        library.apply_settings(replace(library.settings, raw_pairs="both"))
        assert len(library.search_image(folder / "other.jpg", k=10)) == 4
        assert len(library.photos()) == 4
