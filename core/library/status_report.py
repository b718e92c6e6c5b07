"""`LibraryStatus` as read from the store and the data folder: what `lookalike status` and the app's
status bar show. A function of the store, so the facade only says which model and where."""

from __future__ import annotations

from pathlib import Path

from core.library.records import FolderStatus, LibraryStatus, PrecisionStatus
from core.store.database import Store


def library_status(
    store: Store, data_dir: Path, model_key: str, index_file: Path, db_name: str, precision: PrecisionStatus
) -> LibraryStatus:
    per_folder = store.folder_counts(model_key)
    folders = [FolderStatus(f.path, f.online, *per_folder.get(f.id, (0, 0, 0))) for f in store.folders()]
    db_bytes = sum((data_dir / n).stat().st_size for n in (db_name, db_name + "-wal") if (data_dir / n).exists())
    return LibraryStatus(
        data_dir=str(data_dir),
        model=model_key,
        folders=folders,
        counts=store.counts(model_key),
        failures=[(p.path, p.error or "unknown error") for p in store.failures()],
        index_bytes=index_file.stat().st_size if index_file.exists() else 0,
        database_bytes=db_bytes,
        precision=precision,
    )
