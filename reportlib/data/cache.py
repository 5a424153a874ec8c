"""The parsed-table cache: one Parquet file and one .json per table file, written atomically, checked on read.

An entry is `<table>-<key>.parquet` (the typed table) and `<table>-<key>.json` (row count, the
loader's warnings and the SHA-256 of the Parquet file), where the key is a hash of the data file's
path, size, modification and change times and inode (see `load._file_key`). Promises:

- Atomic: each file is written to a fresh temporary file in the cache folder (O_EXCL, never
  following a link), flushed and fsync'ed, then renamed over the entry; the folder is fsync'ed. A
  crash leaves either the old entry or the new one, never half a file under an entry's name.
- Checked: an entry is used only when both files are regular files (not links) owned by this user,
  the .json parses and the Parquet file's SHA-256 equals the one recorded. Anything else (truncated,
  empty, swapped, corrupt) is discarded with a one-line warning on stderr, and the caller rebuilds it.
- Concurrent: writers of one entry hold an exclusive `fcntl.flock` on `.<table>-<key>.lock` while
  they write the pair; readers hold a shared lock while they check it, so no reader sees a Parquet
  file of one writer with the .json of another. Two processes may both parse the same file (work
  done twice, nothing broken).
- Private: the folder is created 0700; a cache folder (or a link to one) that is not a folder owned
  by this user, or is writable by others, is not used at all (one warning; tables stay in memory).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import glob
import hashlib
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportlib.data.source import DataSource

CACHE_FORMAT = 2
_warned: set[str] = set()


def warn(message: str) -> None:
    """Print one warning line on stderr (once per process for the same text)."""
    if message in _warned:
        return
    _warned.add(message)
    print(f"reportlib: warning: {' '.join(message.split())}", file=sys.stderr)


def usable_dir(path: Path) -> Path | None:
    """`path` created if needed (0700) and returned when it is a private folder of this user, else None (warned)."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = os.stat(path)  # follows a link on purpose: a link to a private folder of ours is fine
    except OSError as exc:
        warn(f"the cache folder {path} cannot be used ({exc.strerror or exc}); tables are parsed every run")
        return None
    if not stat.S_ISDIR(st.st_mode):
        warn(f"the cache folder {path} is not a folder; tables are parsed every run")
        return None
    if st.st_uid != os.geteuid() or st.st_mode & 0o022:
        warn(
            f"the cache folder {path} is not private to this user (owner uid {st.st_uid}, mode "
            f"{stat.S_IMODE(st.st_mode):o}); it is not used and tables are parsed every run"
        )
        return None
    return path


def _own_regular_file(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid()


def _sha256(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class CacheEntry:
    """One cached table: `parquet` and `meta` (.json) in `folder`, for table `name` under `key`."""

    def __init__(self, folder: Path, name: str, key: str, source_file: str):
        self.folder = folder
        self.name = name
        self.key = key
        self.source_file = source_file  # the data file it caches, for messages
        self.parquet = folder / f"{name}-{key}.parquet"
        self.meta = folder / f"{name}-{key}.json"
        self._lock = folder / f".{name}-{key}.lock"

    @contextlib.contextmanager
    def locked(self, exclusive: bool) -> Iterator[None]:
        """Hold the entry's lock (shared for readers, exclusive for writers) inside the block; LockUnavailable when
        it cannot be taken (a read-only file system, a folder without write permission, no locks on NFS)."""
        try:
            fd = os.open(self._lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise LockUnavailable(exc.errno, exc.strerror) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            except OSError as exc:
                raise LockUnavailable(exc.errno, exc.strerror) from None
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _check(self) -> tuple[dict | None, str | None]:
        """(meta, None) for a sound entry, (None, None) when there is none, (None, why) when it is broken."""
        have_p, have_m = os.path.lexists(self.parquet), os.path.lexists(self.meta)
        if not have_p and not have_m:
            return None, None
        if not (have_p and have_m):
            return None, "half an entry (the Parquet file or its .json is missing)"
        for path in (self.parquet, self.meta):
            if not _own_regular_file(path):
                return None, f"{path.name} is not a regular file of this user"
        try:
            meta = json.loads(self.meta.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return None, f"{self.meta.name} is unreadable ({exc.__class__.__name__})"
        if not (
            isinstance(meta, dict)
            and meta.get("format") == CACHE_FORMAT
            and isinstance(meta.get("warnings"), list)
            and all(isinstance(w, str) for w in meta["warnings"])
            and isinstance(meta.get("rows"), int)
            and isinstance(meta.get("sha256"), str)
        ):
            return None, f"{self.meta.name} does not hold this version's fields"
        try:
            digest = _sha256(self.parquet)
        except OSError as exc:
            return None, f"{self.parquet.name} is unreadable ({exc.strerror or exc})"
        if digest != meta["sha256"]:
            return None, f"{self.parquet.name} does not match its checksum (truncated or altered)"
        return meta, None

    def read(self) -> dict | None:
        """The entry's metadata when it is sound; None when absent or broken (a broken one is discarded, warned)."""
        with self.locked(exclusive=False):
            meta, why = self._check()
        if meta is not None or why is None:
            return meta
        self.discard(why)
        return None

    def discard(self, why: str) -> None:
        """Remove the entry (if still broken once the exclusive lock is held) and warn in one line."""
        with self.locked(exclusive=True):
            meta, still = self._check()
            if meta is not None:  # another process rebuilt it meanwhile
                return
            for path in (self.parquet, self.meta):
                try:
                    os.unlink(path)  # unlinks a link itself, never its target
                except FileNotFoundError:
                    pass
                except OSError as exc:  # a folder in its place: the table is parsed every run, and says why
                    warn(
                        f"the cached copy of {self.source_file} cannot be replaced ({path} cannot be removed: "
                        f"{exc.strerror or exc}); it is parsed every run until that is removed"
                    )
                    raise
        warn(f"the cached copy of {self.source_file} was discarded and is rebuilt: {still or why}")

    def write(self, write_parquet: Callable[[Any], None], meta: dict | Callable[[], dict]) -> None:
        """Write the entry: `write_parquet(binary file)` fills the Parquet file; `meta` (or what `meta()` gives
        once the Parquet file is written) goes to the .json. An exception from `write_parquet` (the data
        breaks the contract) leaves no entry and no temporary file.

        Each file is written to a temporary file, fsync'ed and renamed; the .json (with the Parquet
        file's SHA-256) last. Raises OSError when the folder is not writable or the disk is full,
        leaving no temporary file behind.
        """
        with self.locked(exclusive=True):
            for stale in glob.glob(glob.escape(str(self.folder / f".{self.name}-{self.key}.")) + "*.tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(stale)  # left by a writer that died: we hold the lock, so none is writing
            # and those of this table's other keys (the file changed since) untouched for STALE_TMP_S: a writer
            # killed mid-write left one the size of the table for good once the data changed (a probe)
            for stale in glob.glob(glob.escape(str(self.folder / f".{self.name}-")) + "*.tmp"):
                with contextlib.suppress(OSError):
                    if time.time() - os.lstat(stale).st_mtime > STALE_TMP_S:
                        os.unlink(stale)
            tmp_p = self._write_tmp(write_parquet)
            try:
                digest = _sha256(Path(tmp_p))
                fields = meta() if callable(meta) else meta
                body = json.dumps({**fields, "format": CACHE_FORMAT, "sha256": digest}).encode()
                tmp_m = self._write_tmp(lambda fh: fh.write(body))
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_p)
                raise
            try:
                os.replace(tmp_p, self.parquet)
                os.replace(tmp_m, self.meta)
            except BaseException:
                for tmp in (tmp_p, tmp_m):
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                raise
            _fsync_dir(self.folder)

    def _write_tmp(self, fill: Callable[[Any], Any]) -> str:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{self.name}-{self.key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fill(fh)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return tmp


# a cache file being written is written to without pause (a table of 6.5 M rows parses in about 80 s): one not
# modified for an hour has no writer
STALE_TMP_S = 3600


class LockUnavailable(OSError):
    """A cache entry's lock cannot be taken: the cache folder cannot be used (said once, tables parsed)."""


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- results shared by the processes of one run -------------------------------------------------------

SHARED_MEMO_ENV = "REPORTLIB_SHARED_MEMO"


def shared_memo_dir() -> Path | None:
    """The folder where the processes of one `reportlib run` share derived results ($REPORTLIB_SHARED_MEMO,
    set by the run for its workers and kernels), or None outside a run or when it is not a private folder."""
    folder = os.environ.get(SHARED_MEMO_ENV)
    if not folder:
        return None
    path = Path(folder)
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        return None
    return path


def remembered(memo: dict, key: tuple, compute: Callable[[], Any], source: DataSource) -> Any:
    """A data source's memo (DataSource.memo): `compute()` kept in `memo` under `key`, a deep copy returned each
    time. Inside a `reportlib run` (shared_memo_dir) the result is also shared with the run's other processes
    (shared_result), named by the source's location, time zone and data fingerprint."""
    if key not in memo:
        folder = shared_memo_dir()
        if folder is None:
            memo[key] = compute()
        else:
            identity = f"{source.location}|{source.tz}|{source.fingerprint}"
            memo[key] = shared_result(folder, identity, key, compute)
    return copy.deepcopy(memo[key])


def shared_result(folder: Path, fingerprint: str, key: tuple, compute: Callable[[], Any]) -> Any:
    """`compute()` computed once by whichever process of the run asks first, and read by the others.

    The entry is named by the data's `fingerprint` and a hash of `repr(key)`; the first process holds an
    exclusive lock while it computes and writes it (atomically), so the others wait for it instead of
    computing it again. The folder is private to this user and lives for one run (made by it), so the
    pickled results are read only by the processes that wrote them. A result that cannot be written is
    simply returned (each process then computes its own).
    """
    import pickle

    name = hashlib.sha256(f"{fingerprint}|{key!r}".encode()).hexdigest()[:32]
    entry = folder / f"{name}.pkl"
    lock = folder / f".{name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _own_regular_file(entry):
            with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError):
                with open(entry, "rb") as fh:
                    return pickle.load(fh)
        value = compute()
        try:
            tmp_fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            with os.fdopen(tmp_fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)
        return value
    finally:
        os.close(fd)
