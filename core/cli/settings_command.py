"""`lookalike settings`: show the library's settings, or set one, as the app's Preferences do.

    lookalike settings [--json]                  every setting
    lookalike settings exclude '*.png' 'Trash/*' replace the exclusion list (no pattern clears it)
    lookalike settings device cpu                one value

A bad key or value exits 2 with a message naming it. While another process owns the library (the
app, `lookalike index --watch`), the change is handed to it and applied there at once.
"""

from __future__ import annotations

import argparse
import json

from core.cli.owning import data_dir_of, own_or_hand_off, say
from core.embedding.registry import DEFAULT_MODEL
from core.errors import ModelError
from core.library.settings import USER_KEYS, Settings, SettingsError
from core.session.owner import LibraryOwner, changed_fields


def add_settings_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    keys = "; ".join(f"{k}: {v}" for k, v in USER_KEYS.items())
    p = sub.add_parser(
        "settings", parents=[common], help="show the library's settings, or set one",
        description=f"With no KEY, prints every setting. Keys: {keys}.",
    )
    p.add_argument("key", nargs="?", metavar="KEY", help=", ".join(USER_KEYS))
    p.add_argument("values", nargs="*", metavar="VALUE")


def cmd_settings(args: argparse.Namespace) -> int:
    data_dir = data_dir_of(args)
    if args.key is None:
        show(Settings.load(data_dir), args.json)
        return 0
    changes = {args.key: list(args.values)}
    try:
        fields = changed_fields(Settings.load(data_dir), changes)  # checked before anything is opened
    except ModelError as exc:
        raise SettingsError(str(exc)) from exc  # a bad value, not a model failure
    if not fields:
        say(f"{args.key} is already set so")
        return 0
    value = args.values if args.key == "exclude" else args.values[0]
    owner = own_or_hand_off(args, "settings", {"set": {args.key: value}}, serve=False)
    if not isinstance(owner, LibraryOwner):
        show(Settings.from_json({**Settings().to_json(), **_stored(owner["settings"])}), args.json)
        return 0
    try:
        owner.start()
        change = owner.settings_job(changes, origin="cli").wait()
        settings = owner.library.settings
    finally:
        owner.close()  # a re-index the change calls for is left to the next `lookalike index`
    show(settings, args.json)
    if change.needs_update:
        say("the next `lookalike index` (or the app) applies this to the library")
    return 0


def show(settings: Settings, as_json: bool) -> None:
    values = settings.user_values()
    if as_json:
        print(json.dumps(values))
        return
    for key, value in values.items():
        if key == "model" and value is None:
            value = f"{DEFAULT_MODEL} (default)"
        elif key in ("exclude", "keeper", "preferred_folders"):
            value = " ".join(value) or "(nothing)"
        print(f"{key:<17} {value}")


def _stored(user_values: dict) -> dict:
    """`Settings.user_values()` back in the stored field names."""
    out = dict(user_values)
    out["results_k"] = out.pop("results", Settings().results_k)
    out["keeper_rules"] = out.pop("keeper", list(Settings().keeper_rules))
    return out
