"""Which files of a raw dump folder are data: discovery (everything passed over is listed
with its reason) and file names as they can be printed."""

from __future__ import annotations

import os
from pathlib import Path


def discover(raw_dir: Path) -> tuple[list[str], list[dict]]:
    """(data files, passed over) under raw_dir, recursively. Data files are sorted
    dataset-relative posix paths; every other entry is passed over with its reason, so the
    report can list it: hidden files and folders, README* (documentation), symlinked folders
    (not followed: they may loop or leave the dataset), dangling symlinks, FIFOs, sockets and
    devices. Names that are not UTF-8 are data files shown with backslash escapes; ingest
    refuses them as bad files (see name_problem)."""
    import stat

    files, passed = [], []

    def rel_of(root, name):
        return Path(root, name).relative_to(raw_dir).as_posix()

    for root, dirs, names in os.walk(raw_dir):
        keep = []
        for d in sorted(dirs):
            if d.startswith("."):
                passed.append({"file": display(rel_of(root, d)) + "/", "reason": "hidden folder"})
            elif os.path.islink(os.path.join(root, d)):
                passed.append({"file": display(rel_of(root, d)) + "/",
                               "reason": "symlinked folder, not followed"})
            else:
                keep.append(d)
        dirs[:] = keep
        for f in names:
            rel = rel_of(root, f)
            path = os.path.join(root, f)
            reason = None
            if f.startswith("."):
                reason = "hidden file"
            elif f.lower().startswith("readme"):
                reason = "README* is taken as documentation (rename the file to ingest it)"
            else:
                try:
                    mode = os.stat(path).st_mode
                except FileNotFoundError:
                    reason = "dangling symlink"
                except OSError as e:
                    reason = f"cannot stat ({e.strerror or e})"
                else:
                    if not stat.S_ISREG(mode):
                        kind = ("FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode)
                                else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                                else "folder" if stat.S_ISDIR(mode) else "special file")
                        reason = f"not a regular file ({kind})"
            if reason is None:
                files.append(rel)
            else:
                passed.append({"file": display(rel), "reason": reason})
    files.sort(key=display)
    passed.sort(key=lambda p: p["file"])
    return files, passed


def display(rel: str) -> str:
    """A path as it can be printed and stored: bytes that are not UTF-8 (surrogate escapes
    from the file system) shown as \\xNN."""
    try:
        rel.encode("utf-8")
        return rel
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("utf-8", "backslashreplace")


def name_problem(rel: str) -> str | None:
    if display(rel) != rel:
        return "file name is not valid UTF-8; rename the file to ingest it"
    return None
