"""What every output shares: the output formats, the JSON envelope, CSV safety and atomic writes."""

from __future__ import annotations

import contextlib
import csv
import errno
import html
import io
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from revops_cli import __version__
from revops_cli.errors import InputError
from revops_cli.formats import OutputFormat
from revops_cli.load.dataset import Dataset

SCHEMA_VERSION = 1
__all__ = ["OutputFormat", "envelope", "md_table", "safe_cell", "to_csv", "to_json", "write_atomic"]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
WRITE_HINT = "check the folder's permissions and the free space"


def envelope(
    command: str, config_path: Path | str, as_of: date, dataset: Dataset | None
) -> dict[str, Any]:
    """The fields every JSON document starts with (CLI.md "JSON output")."""
    tables = {}
    if dataset is not None:
        tables = {
            name: {"path": str(load.path), "rows": load.rows}
            for name, load in dataset.loads.items()
            if load.loaded
        }
    return {**bare_envelope(command, str(config_path), as_of), "tables": tables}


def bare_envelope(command: str, config: str | None, as_of: date) -> dict[str, Any]:
    """The common fields of a document that reads no data (`explain`): `tables` is empty, and
    `config` is null when none was named."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "revops",
        "version": __version__,
        "command": command,
        "as_of": as_of.isoformat(),
        "config": config,
        "tables": {},
    }


def to_json(document: dict[str, Any]) -> str:
    """Indented JSON with a final newline; keys keep their insertion order. A number that is not
    finite is null: JSON has no Infinity or NaN (a reader would refuse the whole document)."""
    return json.dumps(_finite(document), indent=2, ensure_ascii=False, default=str) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (prefixes = + - @ tab CR with ')."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with every text cell made spreadsheet-safe; numbers are written as they are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # with "\n" as the line end, the csv module leaves a cell holding a bare "\r" unquoted,
    # which readers take for a line end: such a row is written with every cell quoted
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    for row in rows:
        cells = [v if isinstance(v, int | float | Decimal) else safe_cell(v) for v in row]
        has_cr = any(isinstance(c, str) and "\r" in c for c in cells)
        (quoted if has_cr else writer).writerow(cells)
    return buffer.getvalue()


def fields_csv(entry: Mapping[str, Any]) -> str:
    """A document of named fields as CSV, `field,value` (`explain`): a list as its items joined
    by '; ', a map as JSON text."""

    def value(item: Any) -> object:
        if isinstance(item, list | tuple):
            return "; ".join(str(v) for v in item)
        if isinstance(item, dict):
            return json.dumps(item, ensure_ascii=False, default=str)
        return item

    return to_csv(("field", "value"), [(name, value(item)) for name, item in entry.items()])


# CommonMark's inline punctuation: emphasis, code, links and images, strikethrough (GFM). An
# underscore inside a word (`mrr_start`) starts no emphasis and stays bare, as `!` not before `[`
MARKDOWN_PUNCTUATION = re.compile(r"([\\`*\[\]~]|!(?=\[)|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def md_text(value: object, markdown: bool = False) -> str:
    """`value` as literal Markdown text on one line: HTML escaped, so that a name such as
    `<script>` reads as text where Markdown passes HTML through, and so is Markdown's own
    punctuation, so that a deal named `![x](http://...)` shows as written, not as an image.
    With `markdown` (revops's own text, code spans and all) the punctuation is kept."""
    text = LINE_BREAK.sub(" ", "" if value is None else str(value))
    return html.escape(text if markdown else MARKDOWN_PUNCTUATION.sub(r"\\\1", text), quote=False)


def md_table(
    header: Sequence[str], rows: Iterable[Sequence[object]], markdown: Sequence[int] = ()
) -> str:
    """A GitHub-flavoured Markdown table of literal text (`md_text`), pipes in cells escaped; the
    columns at `markdown` hold revops's own Markdown (fix texts with code spans), HTML-escaped
    only."""

    def cell(index: int, value: object) -> str:
        return md_text(value, index in markdown).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(-1, h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(i, v) for i, v in enumerate(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _target(path: Path) -> Path:
    """The file `path` names once its symbolic links are followed; a loop of them is exit 2."""
    try:
        return path.resolve() if path.is_symlink() else path
    except RuntimeError:  # Python 3.11 raises RuntimeError for a loop
        raise InputError(f"{path}: is a loop of symbolic links", "point it at a file") from None
    except OSError as exc:  # a name too long, a loop seen by the system (ELOOP)
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path}: is a loop of symbolic links", "point it at a file") from None
        raise InputError(f"{path}: {exc.strerror}", "choose another path") from None


def check_writable(path: Path) -> None:
    """Raise the InputError `write_atomic` would for where `path` is (a folder, in a folder that
    does not exist or cannot be written, a loop of links): a command checks its outputs before it
    runs, so that a run that cannot write one of them writes none (exit 2) instead of failing
    after the others were written."""
    if descriptor(path) is not None:
        return  # written through the open descriptor, wherever its file is
    target = _target(path)
    if target.is_dir():
        raise InputError(f"{path}: is a folder", "give the path of a file to write")
    if target.exists() and not target.is_file():
        return  # a device or a pipe, written in place
    _existing(target)  # a read-only file
    folder = target.parent
    if not folder.is_dir():
        raise InputError(
            f"{path}: the output folder {folder} does not exist",
            "create it or choose another path",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(
            f"{path}: the output folder {folder} cannot be written",
            "check its permissions or choose another path",
        )


def check_distinct(
    named: Mapping[str, Path | None],
    may_share: tuple[str, str] | None = None,
    inputs: Iterable[tuple[str, Path]] = (),
) -> None:
    """Exit 2 when two of the files in `named` (option -> path) are one file: a write would
    replace another output, an input such as the baseline, or corrupt a run history. The pair
    `may_share` may name one file (`--baseline X --write-baseline X` updates X). A device or a
    pipe (/dev/null, /dev/stdout) may be named twice. None of them may be one of `inputs` (the
    config and the exports, each with what names it): a run never writes over what it reads."""
    read = {os.path.realpath(_target(path)): key for key, path in inputs if path.is_file()}
    seen: dict[str, tuple[str, int | None]] = {}  # file -> the option and descriptor naming it
    for option, path in named.items():
        if path is None or (path.exists() and not path.is_file()):
            continue  # /dev/stdout into a pipe resolves to a path that does not exist
        target = _target(path)
        key = os.path.realpath(target)
        if key in read:
            raise InputError(
                f"{option} names an input of the run, {path} ({read[key]})",
                "choose another path: a run never writes over the files it reads",
            )
        fd = descriptor(path)
        if key in seen:
            first, first_fd = seen[key]
            if fd is not None and fd == first_fd:
                continue  # one descriptor, written in turn (-o /dev/stdout --findings /dev/stdout)
            if {first, option} != set(may_share or ()):
                raise InputError(
                    f"{first} and {option} name the same file, {path}",
                    "give each output a file of its own",
                )
        seen.setdefault(key, (option, fd))


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, then rename it.

    The file gets the mode a plain `open` would give it: an existing file keeps its mode (a
    `chmod 600` report stays private) and, where allowed, its group; a new one 0666 less the
    umask, not mkstemp's 0600. A file that cannot be written to is not replaced (exit 2). The
    temporary file is removed when anything fails. A symbolic link is followed
    (its target is replaced, the link stays), and a path that is not a regular file, such as
    /dev/null or a named pipe, is written in place: renaming onto it would replace the device.
    A name of one of this process's open descriptors (/dev/stdout, /dev/fd/3, /proc/self/fd/1)
    is written through the descriptor, in UTF-8: under `revops ... >> log.txt` it is the log file
    itself, which a rename would replace and a second `open` would write over.
    """
    check_writable(path)
    fd = descriptor(path)
    if fd is not None:
        _write_descriptor(path, fd, text.encode("utf-8"))
        return
    if path.exists() and not path.is_file():
        _write_in_place(path, text)
        return
    path = _target(path)
    folder = path.parent
    existing = _existing(path)
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask() if existing is None else existing.st_mode & 0o7777)
        if existing is not None:
            with contextlib.suppress(OSError):  # a group the user is not in: keep ours
                os.chown(temporary, -1, existing.st_gid)
        os.replace(temporary, path)
    except BaseException as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        if isinstance(exc, OSError):
            raise InputError(
                f"{path}: cannot write the output: {exc.strerror}", WRITE_HINT
            ) from None
        raise


def _existing(path: Path) -> os.stat_result | None:
    """The status of the file `path` replaces, None when there is none; exit 2 when it cannot be
    written to, as a plain `open` would refuse it (root may write anything)."""
    try:
        status = path.stat()
    except OSError:
        return None
    if not os.access(path, os.W_OK):
        raise InputError(
            f"{path}: cannot write the output: Permission denied", "check the file's permissions"
        )
    return status


DESCRIPTOR_PATH = re.compile(r"/dev/std(out|err)|/dev/fd/(\d+)|/proc/(self|\d+)/fd/(\d+)")


def descriptor(path: Path) -> int | None:
    """The open descriptor of this process that `path` names (/dev/stdout: 1, /dev/fd/3: 3,
    /proc/self/fd/2: 2; another name under /dev or /proc of the file of our stdout or stderr,
    such as the parent shell's /proc/<pid>/fd/1), else None."""
    absolute = os.path.abspath(path)
    if not absolute.startswith(("/dev/", "/proc/")):
        return None
    found = DESCRIPTOR_PATH.fullmatch(absolute)
    if found is not None:
        stream, fd, pid, proc_fd = found.groups()
        if pid is None or pid == "self" or int(pid) == os.getpid():
            number = {"out": 1, "err": 2}[stream] if stream else int(fd or proc_fd)
            with contextlib.suppress(OSError):
                os.fstat(number)
                return number
            return None  # not open: the path is written as any other
    try:
        named = os.stat(path)
    except OSError:
        return None
    for number in (1, 2):
        with contextlib.suppress(OSError):
            if os.path.samestat(named, os.fstat(number)):
                return number
    return None


def _write_descriptor(path: Path, fd: int, data: bytes) -> None:
    """`data` written to `fd` at its offset (or its end, when opened to append)."""
    for stream in (sys.stdout, sys.stderr):  # what was printed before comes first
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    try:
        while data:
            data = data[os.write(fd, data) :]
    except BrokenPipeError:
        # a reader that stopped early (`| head`): neither a finding nor a bug, as for stdout
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the output: {exc.strerror}", WRITE_HINT) from None


def _write_in_place(path: Path, text: str) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as stream:
            stream.write(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the output: {exc.strerror}", WRITE_HINT) from None


def _umask() -> int:
    """The process umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
