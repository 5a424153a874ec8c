"""The one safe path from hostile text (client ids, addresses, cells) to file names, e-mail addresses,
files on disk and spreadsheet cells.

Everything here is pure or touches only the path it is given:

* `file_stem` — a client id (or any id) -> a bounded, readable, collision-free file-name stem;
* `parse_address` / `substitute_id` — one configured recipient -> exactly one address with a domain;
* `neutralise_cell` / `neutralise_frame` / `csv_cell` / `csv_text` — spreadsheet formula injection (OWASP's rule) for
  CSV and XLSX;
* `printable` — a value from data quoted in a message: one line, no terminal escapes or bidi overrides;
* `write_atomic`, `open_nofollow`, `inside` — files written whole or not at all, never through a link,
  and paths read from files kept inside their folder;
* `stamp_page` / `page_stamp` — which report, client and month an HTML page was rendered for;
  `stamp_pdf` / `pdf_stamp` — the same for a PDF (an entry of its document information dictionary).
* `redact_passwords` / `split_password` — a database URL's password never printed, logged or rendered.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import html
import json
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable
from email.errors import HeaderParseError
from email.headerregistry import HeaderRegistry
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from reportlib.core.errors import ReportlibError

# --- ids -> file names ----------------------------------------------------------------------------

SAFE_ID = re.compile(r"[A-Za-z0-9._-]+")  # what `validate` calls a safe id and `{client_id}` accepts
# The longest id that can be substituted into an address: an e-mail local part holds at most 64
# characters (RFC 5321 4.5.3.1.1). `validate` refuses longer agent and client ids.
MAX_ID_LENGTH = 64
SLUG_MAX = 48  # characters of readable slug kept in a file name
HASH_CHARS = 12  # hex characters of SHA-256 (48 bits): a second id with the same file needs ~2**48 tries


def id_hash(raw: str) -> str:
    """A short, stable fingerprint of a raw id (lowercase hex of SHA-256 over its UTF-8 bytes)."""
    return hashlib.sha256(str(raw).encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]


def slug(raw: str, limit: int = SLUG_MAX) -> str:
    """The readable part of a file name: NFKC-folded ASCII letters, digits, `-` and `_` (at most `limit`)."""
    text = unicodedata.normalize("NFKC", str(raw))
    text = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")
    return text[:limit].rstrip("_-") or "x"


def file_stem(prefix: str, raw_id: str | None) -> str:
    """The file-name stem (no suffix) for a report, or a report for one id.

    `prefix` alone when there is no id; otherwise `<prefix>_<slug>_<hash>`, where the hash is of the raw
    id, always (not only when the slug differs from the id: an id may be chosen to look like another id's
    slug plus hash). So two distinct ids never share a file, in one run or across runs, on case-folding
    file systems too (the hash is lowercase hex); the stem is at most len(prefix) + 62 characters, far
    under any file system's 255-byte limit even with `.failed.ipynb` or a temporary-file suffix; and it
    holds no `/`, `..`, NUL, space or non-ASCII character.
    """
    if not SAFE_ID.fullmatch(prefix):
        raise ValueError(f"unsafe file-name prefix {prefix!r}")
    if raw_id is None:
        return prefix
    return f"{prefix}_{slug(raw_id)}_{id_hash(raw_id)}"


def is_safe_id(raw: Any) -> bool:
    """True when an id may be substituted into an address: letters, digits, `.`, `_`, `-` (ASCII only)."""
    return (
        isinstance(raw, str) and bool(SAFE_ID.fullmatch(raw)) and not raw.startswith(".") and len(raw) <= MAX_ID_LENGTH
    )


# --- e-mail addresses -----------------------------------------------------------------------------

_REGISTRY = HeaderRegistry()
_DOMAIN = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")


class AddressError(ValueError):
    """A configured recipient is not exactly one address with a domain; the message names the entry."""


def parse_address(entry: Any, allowed_domains: list[str] | None = None, recipient: bool = False) -> str:
    """Exactly one e-mail address from `entry` ('a@b.test' or 'Name <a@b.test>'), as the bare address.

    Refused (AddressError naming the entry): not a string, a control character (CR, LF, NUL...), none or
    more than one address (a comma outside quotes), no `@` or no domain, a local part or domain outside
    the plain ASCII forms, or — when `allowed_domains` is given — a domain not in it (exact match,
    case-insensitive). A `recipient`'s domain without a dot ("jane@acmecorp", a typo for acmecorp.com: a probe
    sent 213 messages to b@x) is refused unless `allowed_domains` lists it (a local domain meant).
    """
    if not isinstance(entry, str):
        raise AddressError(f"{entry!r} is not an e-mail address")
    if any(unicodedata.category(ch)[0] == "C" for ch in entry):
        raise AddressError(f"{entry!r} holds a line break or control character")
    if "," in re.sub(r'"(?:[^"\\]|\\.)*"', "", entry):  # a comma outside a quoted display name
        raise AddressError(f"{entry!r} must be exactly one address (it holds a comma)")
    try:
        header: Any = _REGISTRY("to", entry)  # an AddressHeader
        addresses = list(header.addresses)
        defects = list(header.defects)
    except (HeaderParseError, IndexError, ValueError):
        raise AddressError(f"{entry!r} is not an e-mail address (expected name@domain)") from None
    if len(addresses) != 1:
        raise AddressError(f"{entry!r} must be exactly one address, it holds {len(addresses)}")
    addr = addresses[0]
    local, domain = addr.username or "", addr.domain or ""
    if not domain and "@" in entry and entry.strip().rstrip(">").strip().endswith("."):  # read as no domain
        raise AddressError(f"{entry!r} has a domain ending in a dot: write it without the last dot")
    if not domain:
        raise AddressError(f"{entry!r} has no domain (expected name@domain)")
    if defects:
        said = str(defects[0])
        if said.count(")") > said.count("("):  # the email package's own text ends some defects with a stray ")"
            said = said[: said.rindex(")")] + said[said.rindex(")") + 1 :]
        raise AddressError(f"{entry!r} is not a well-formed address ({said})")
    if not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise AddressError(f"{entry!r} has an unusable mailbox name {local!r}")
    if "%" in local or "!" in local:  # a relay that honours the old source routing would send it on elsewhere
        raise AddressError(f"{entry!r} routes mail on through its mailbox name ({local!r} holds % or !)")
    if not _DOMAIN.fullmatch(domain):
        # a domain in letters outside ASCII: its ASCII (IDNA) form is what mail servers take. Python's codec is IDNA
        # 2003, which writes "ß", "ς" and the joiners otherwise than today's IDNA 2008 ("straße.de" as strasse.de,
        # someone else's domain: a review): no form is offered for those
        deviant = any(ch in domain for ch in "ßς\u200c\u200d")
        try:
            ascii_form = domain.encode("idna").decode("ascii") if not domain.isascii() and not deviant else None
        except UnicodeError:
            ascii_form = None
        hint = f"; write it in its ASCII form, {ascii_form}" if ascii_form else ""
        raise AddressError(f"{entry!r} has an unusable domain {domain!r}{hint}")
    bare = f"{local}@{domain}"
    listed = {d.strip().lower() for d in allowed_domains or []}
    if recipient and "." not in domain and domain.lower() not in listed:
        raise AddressError(
            f"{entry!r} has a domain without a dot ({domain}): a typo? To send to a local domain, list it under "
            "distribution.allowed_domains"
        )
    if listed and domain.lower() not in listed:
        raise AddressError(
            f"{entry!r}: the domain {domain} is not in distribution.allowed_domains ({', '.join(sorted(listed))})"
        )
    return bare


def substitute_id(
    template: str,
    raw_id: str,
    field: str = "client_id",
    listed: str = "list the client under distribution.account_teams",
) -> str:
    """`template` with `{<field>}` (default `{client_id}`) replaced by `raw_id`; AddressError when the id
    is not a safe id (the message ends with the hint `listed`).

    Only safe ids (`is_safe_id`) are substituted: an id decides which mailbox of a configured domain
    receives a report, never the domain or the number of recipients.
    """
    placeholder = "{" + field + "}"
    if placeholder in template and not is_safe_id(raw_id):
        raise AddressError(
            f"{field.replace('_', ' ')} {raw_id!r} cannot be put into the address {template!r}: only letters, "
            f"digits, '.', '_' and '-' are ({listed})"
        )
    return template.replace(placeholder, raw_id)


# --- text from data in messages -------------------------------------------------------------------


def printable(text: Any) -> str:
    """`text` safe to quote in a one-line terminal message: every character Python does not call
    printable (Unicode categories C* and Z* but the space: newline, tab, the ESC of a terminal escape,
    the right-to-left override U+202E, zero-width and no-break spaces) is written as its escape
    (`\\n`, `\\x1b`, `\\u202e`), as repr() would; other characters, non-ASCII letters too, are kept."""
    text = str(text)
    if text.isprintable():  # the common case: nothing to escape
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def whole_word(term: str, body: str | None = None) -> str:
    """A regular expression for `term` (or the pattern `body` written for it) that matches only as a whole word:
    not preceded by a word character where the term starts with one, not followed by one where it ends with one
    ("ted" leaves "expected" whole; "A.B." still matches before a full stop)."""
    head = r"(?<!\w)" if re.match(r"\w", term[:1]) else ""
    tail = r"(?!\w)" if re.match(r"\w", term[-1:]) else ""
    return head + (re.escape(term) if body is None else body) + tail


# --- folders owned by a process ------------------------------------------------------------------


def _process_start(pid: int) -> str | None:
    """The start time (clock ticks since boot) of process `pid`, or None when it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError, ValueError):
        if not Path("/proc").is_dir():  # no /proc: fall back to whether the pid exists
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return None
            except OSError:
                return "?"
            return "?"
        return None


OWNER_FILE = "owner.json"


def write_owner(folder: Path) -> None:
    """Record this process (pid and start time) in `folder` as its owner: who may clean it up (`owner_gone`)."""
    with open(Path(folder) / OWNER_FILE, "x", encoding="utf-8") as fh:
        fh.write(json.dumps({"pid": os.getpid(), "start": _process_start(os.getpid())}))


def owner_gone(folder: Path) -> bool:
    """Whether the process recorded as `folder`'s owner (`write_owner`) no longer runs; a folder without a
    readable owner record counts as gone once a day old."""
    try:
        owner = json.loads((Path(folder) / OWNER_FILE).read_text())
        return _process_start(int(owner["pid"])) != str(owner["start"])
    except (OSError, ValueError, KeyError, TypeError):
        try:
            return time.time() - Path(folder).lstat().st_mtime >= 86400
        except OSError:
            return False


def owned_temp_folder(prefix: str, base: str | os.PathLike | None = None) -> Path:
    """A new private folder (0700) in `base` (default: the temporary folder), named `prefix...`, with this process
    recorded as its owner; first, this user's folders of that prefix there whose owner is gone are removed (a
    process killed with SIGKILL, or by Ctrl-C in a child that cannot clean up, leaves its folder behind: a run's
    shared results, a browser's profile)."""
    where = Path(base) if base is not None else Path(tempfile.gettempdir())
    for left in where.glob(f"{glob.escape(prefix)}*"):
        with contextlib.suppress(OSError):
            if not left.is_symlink() and left.is_dir() and left.stat().st_uid == os.getuid() and owner_gone(left):
                shutil.rmtree(left, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
    write_owner(folder)
    return folder


# Cyrillic and Greek letters drawn like Latin ones -> that Latin letter, case kept: "АCME" with a Cyrillic "А" is
# ACME to a reader, "Rоb" with a Cyrillic "о" is Rob (probes). Written by hand: Unicode's confusables table (UTS
# #39) is not in the standard library, and these are the letters of those two scripts drawn as the Latin letter in
# every common font (the capital "В" is a B, its small "в" is not a b).
_LOOK_ALIKES = str.maketrans(
    dict(
        zip(
            "аАВсСеЕһНіІјЈКМоОрРѕЅТхХуҮԁԛԝӏ" + "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοιν" + "ıɑɡ",
            "aABcCeEhHiIjJKMoOpPsSTxXyYdqwl" + "ABEZHIKMNOPTYXoiv" + "iag",
            strict=True,
        )
    )
)


def as_latin(text: str) -> str:
    """`text` with each Cyrillic or Greek letter drawn like a Latin one written as that Latin letter, case kept
    ("АCME" -> "ACME"; other letters of those scripts kept), and the Latin dotless "ı", script "ɑ" and "ɡ" as "i",
    "a", "g" ("Rıvera" reads "Rivera"): how a reader sees it, for telling look-alike names apart (validate's
    look-alike warning, the redactor)."""
    return text.translate(_LOOK_ALIKES)


# The characters that move or break the text around them wherever it is shown: the bidirectional embedding,
# override and isolate controls (U+202A-U+202E, U+2066-U+2069: the "Trojan Source" set, CVE-2021-42574) and the
# line and paragraph separators (U+2028, U+2029, U+0085), which start a new line in an e-mail's text.
_SPOOFING = re.compile("[\u202a-\u202e\u2066-\u2069\u2028\u2029\u0085]")
_SPOOFING_OR_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069\u2028\u2029\x00-\x1f\x7f-\x9f]")


def unspoofed(text: str, controls: bool = False) -> str:
    """`text` with each character that moves or breaks the text around it (bidirectional controls, line and
    paragraph separators) written as a visible mark, "[U+202E]". From data, such a character reached every page,
    PDF, workbook and e-mail: a client named "Evil\u202egnp.exe Corp" read "Evil proC exe.png" in its review's
    title and footer, and reversed the template's words after it too; a name holding U+2028 made a line "Bcc: ..."
    in a message's text. Shown, not dropped: names that differ only by one stay apart. Applied where text leaves
    the tool (pages, PDFs' footers, the index, e-mail bodies, `neutralise_cell` for CSV and XLSX); marks and
    letters of right-to-left scripts are kept (U+200E/U+200F, Arabic, Hebrew). With `controls`, every control
    character (C0, DEL and C1: CR, LF, tab, NUL, ESC) is shown too, for one line of plain text (an e-mail's text
    part: a name holding CR LF made a "Bcc:" line of its own)."""
    pattern = _SPOOFING_OR_CONTROL if controls else _SPOOFING
    return pattern.sub(lambda m: f"[U+{ord(m.group()):04X}]", text) if pattern.search(text) else text


# --- spreadsheet cells ----------------------------------------------------------------------------

# the full-width and small forms of = + - @ too: Excel with an East Asian input method reads "＝1+1" typed into a
# cell as a formula, and a CSV opened by a tool that folds widths may too (a probe found them kept as written)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "﹦", "﹢", "﹣")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """A cell value a spreadsheet will not run as a formula (OWASP's CSV-injection rule).

    A text starting with `=`, `+`, `-`, `@` (or their full-width or small forms), tab or carriage return gets a
    leading `'` unless it is a number written as text (`-12.5`, `+3e2`); a text's bidirectional controls and line separators are shown as
    marks (`unspoofed`); numbers, missing values and other text are returned as is.
    Shared by every CSV and XLSX writer of the tool.
    """
    if not isinstance(value, str):
        return value
    value = unspoofed(value)
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


# A formula character after a separator a spreadsheet may split a CSV cell at: OWASP's CSV-injection page warns that
# attackers use separators "to start a new cell and then have the dangerous character in the middle of the user
# input" (Excel opens a CSV with the locale's list separator, ";" in much of Europe, where quotes do not protect).
_SPLIT_FORMULA = re.compile(r"([;\t\n]\s*)(?=[=+\-@＝＋－＠﹦﹢﹣])")


def _lf(value: Any) -> Any:
    """A text's carriage returns (CR LF or CR alone) as line feeds; anything else as is."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def csv_cell(value: Any) -> Any:
    """`neutralise_cell`, then a text's carriage returns as line feeds (`csv_text`) and a `'` before each formula
    character that follows a separator (`;`, tab or line feed, then any white space) inside the text:
    "Deadline;=1+1" -> "Deadline;'=1+1". A comma or a double quote is no such separator: the writer quotes a text
    holding one, and where Excel splits on ";" a comma is text ("Q4, -3% vs plan" stays as it is). For CSV only:
    an XLSX text cell is never split."""
    value = _lf(neutralise_cell(value))
    return _SPLIT_FORMULA.sub(r"\1'", value) if isinstance(value, str) else value


def neutralise_frame(frame, cell: Callable[[Any], Any] = neutralise_cell):
    """A copy of a DataFrame with `cell` (`neutralise_cell`) applied to every text cell (and text column names)."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_datetime64_any_dtype(out[col])):
            out[col] = out[col].astype(object).map(cell)
    out.columns = [cell(c) for c in out.columns]
    return out


def csv_text(frame, *, neutralise: bool = True, na_rep: str = "") -> str:
    """A DataFrame as CSV text (UTF-8 when encoded, LF line ends, a header row; a field quoted where it needs it).

    A carriage return inside a text is written as a line feed: Python 3.11's csv quotes a field only for the line
    terminator's characters, so "Billing\r=2+5" was written bare and became a row of its own starting with a formula
    (a lone CR ends a line for Excel, LibreOffice and this tool's own reader); a line feed is quoted, and stays in its
    cell. `neutralise`: text cells go through `csv_cell` (every CSV a person opens); the data-contract files the
    importers write are read back as data and are not neutralised."""
    return neutralise_frame(frame, csv_cell if neutralise else _lf).to_csv(
        index=False, lineterminator="\n", na_rep=na_rep
    )


# --- files ----------------------------------------------------------------------------------------

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


# Files holding agent names, HR data, clients' figures or the run's records: readable by their owner alone.
OWNER_ONLY = 0o600


def owner_only(path: str | os.PathLike) -> None:
    """Make `path` readable and writable by its owner alone (a folder: also searchable, 0700); where the file system
    has no permissions to set (FAT, some network shares refuse chmod), leave it as it is rather than fail what was
    being written."""
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700 if os.path.isdir(path) else OWNER_ONLY)


def open_nofollow(path: str | os.PathLike, flags: int = os.O_RDONLY, mode: int = OWNER_ONLY) -> int:
    """os.open that refuses a symbolic link as the last component and anything but a regular file."""
    # O_NONBLOCK: opening a FIFO planted in place of a file must not hang (no effect on regular files)
    fd = os.open(path, flags | _O_NOFOLLOW | _O_CLOEXEC | getattr(os, "O_NONBLOCK", 0), mode)
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes_nofollow(path: str | os.PathLike) -> bytes:
    """The bytes of a regular file, refusing a link as its last component."""
    fd = open_nofollow(path)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def write_atomic(path: str | os.PathLike, data: bytes | str, *, exclusive: bool = False) -> None:
    """Write `path` whole or not at all: a fresh temporary file beside it (O_EXCL, random name, never
    following a link), fsync, then rename over `path` (or, when `exclusive`, link it in place and fail with
    FileExistsError if `path` exists). On any failure the temporary file is removed and `path` is as before.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            os.link(tmp, path)  # fails if path exists (a link or not): never replaces anything
        else:
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def inside(folder: str | os.PathLike, relative: Any) -> Path:
    """`folder/relative` when it resolves (links followed) to a path strictly inside `folder`.

    ReportlibError otherwise: not a relative path string, absolute, `..` escaping, a NUL byte, or a link
    leading out.
    """
    base = os.path.realpath(folder)
    if not isinstance(relative, str) or not relative or "\x00" in relative or os.path.isabs(relative):
        raise ReportlibError(f"path {relative!r} is not a relative path inside {folder}")
    target = os.path.realpath(os.path.join(base, relative))
    if os.path.commonpath([base, target]) != base or target == base:
        raise ReportlibError(f"path {relative!r} leads outside {folder}")
    return Path(target)


# --- which page is this ---------------------------------------------------------------------------

STAMP = "reportlib-rendered-for"


def stamp_record(report: str, client_id: str | None, month: str, agent_id: str | None = None) -> dict[str, Any]:
    """What a page or PDF is stamped with: report, client id and month, and the agent id of an agent review
    (only the page's own agent, never anyone else)."""
    record: dict[str, Any] = {"report": report, "client_id": client_id, "month": month}
    if agent_id is not None:
        record["agent_id"] = agent_id
    return record


def stamp_page(page: str, report: str, client_id: str | None, month: str, agent_id: str | None = None) -> str:
    """The HTML page with a `<meta name="reportlib-rendered-for">` recording report, client id and month
    (and the agent id of an agent review: only the page's own agent, never anyone else)."""
    import json

    content = html.escape(json.dumps(stamp_record(report, client_id, month, agent_id), ensure_ascii=True), quote=True)
    tag = f'<meta name="{STAMP}" content="{content}">'
    m = re.search(r"<head[^>]*>", page[:4096], flags=re.IGNORECASE)
    if m:
        return page[: m.end()] + tag + page[m.end() :]
    return tag + page


class _StampParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "meta" and a.get("name") == STAMP:
            self.found.append(a.get("content") or "")


def page_stamp(page: bytes | str) -> dict | None:
    """The report, client id and month a page was stamped with (`stamp_page`), or None (no stamp, two
    stamps, or an unreadable one)."""
    import json

    text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    end = re.search(r"</head\s*>", text, flags=re.IGNORECASE)
    p = _StampParser()
    p.feed(text[: end.start()] if end else text[:65536])
    if len(p.found) != 1:
        return None
    try:
        value = json.loads(p.found[0])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


PDF_STAMP_KEY = "/ReportlibRenderedFor"


def stamp_pdf(data: bytes, report: str, client_id: str | None, month: str, agent_id: str | None = None) -> bytes:
    """The PDF with its document information recording report, client id and month, and the agent id of
    an agent review (`stamp_record`; `pdf_stamp` reads it).

    An incremental update (PDF 32000-1, 7.5.6): the printed bytes are kept as they are and a new
    information dictionary (the old entries and the stamp), a one-entry cross-reference section and a
    trailer pointing back to the previous one are appended. pypdf reads the trailer and the old dictionary
    and writes the new one; the few lines of file structure around it are written here because pypdf's own
    incremental writer first copies every object of the document (87 ms for a 5-page client review,
    against 10 ms for this; docs/benchmarks.md). A file this cannot update in that form (its last
    cross-reference section is a stream, or it is encrypted) goes through pypdf's writer.
    """
    import io
    import json

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, IndirectObject, NameObject, NumberObject, TextStringObject

    value = TextStringObject(json.dumps(stamp_record(report, client_id, month, agent_id), ensure_ascii=True))
    reader = PdfReader(io.BytesIO(data))
    trailer = reader.trailer
    tail = re.search(rb"startxref\s+(\d+)\s*%%EOF$", data.rstrip()[-64:])
    prev = int(tail.group(1)) if tail else -1
    number = trailer.get("/Size")  # the next object number: the new dictionary's
    if reader.is_encrypted or prev < 0 or data[prev : prev + 4] != b"xref" or not isinstance(number, int):
        writer = PdfWriter(io.BytesIO(data), incremental=True)
        writer.add_metadata({PDF_STAMP_KEY: value})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    info = DictionaryObject(reader.metadata or {})
    info[NameObject(PDF_STAMP_KEY)] = value
    new_trailer = DictionaryObject(
        {
            NameObject("/Size"): NumberObject(number + 1),
            NameObject("/Root"): trailer.raw_get("/Root"),
            NameObject("/Info"): IndirectObject(number, 0, reader),
            NameObject("/Prev"): NumberObject(prev),
        }
    )
    if "/ID" in trailer:
        new_trailer[NameObject("/ID")] = trailer["/ID"]
    out = io.BytesIO()
    out.write(data if data.endswith(b"\n") else data + b"\n")
    offset = out.tell()
    out.write(f"{number} 0 obj\n".encode())
    info.write_to_stream(out)
    out.write(b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n{number} 1\n{offset:010d} 00000 n \ntrailer\n".encode())
    new_trailer.write_to_stream(out)
    out.write(f"\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def pdf_stamp(data: bytes) -> dict | None:
    """The report, client id and month a PDF was stamped with (`stamp_pdf`), or None (not a readable PDF,
    no stamp, or an unreadable one)."""
    import io
    import json
    import logging

    from pypdf import PdfReader

    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.CRITICAL)  # a damaged file is answered with None, not with pypdf's warnings
    try:
        info = PdfReader(io.BytesIO(data)).metadata
        raw = info.get(PDF_STAMP_KEY) if info is not None else None
        value = json.loads(str(raw)) if raw is not None else None
    except Exception:  # noqa: BLE001 - any unreadable or hostile file: no stamp
        return None
    finally:
        log.setLevel(level)
    return value if isinstance(value, dict) else None


# --- passwords in database URLs ---------------------------------------------------------------------

# scheme://user:password@host — the password, up to the last @ of the text's run of non-blanks: a password
# typed without percent-encoding may hold / ? # (the URL is then malformed, but the message naming it must
# still not show it); `:<digits>` followed by / ? # or the end is a port, not a password
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@?#]*):(?!\d{1,5}(?:[/?#\s]|$))(?P<pw>\S*)@")
# ?password=... (libpq's own form), sslpassword=..., any query key naming a password
_QUERY_PASSWORD = re.compile(
    r"(?P<head>[?&;][^\s=&#;]*pass[^\s=&#;]*=)[^\s&#;]*?(?=[:,.;)]*(?:\s|$)|[&#])", re.IGNORECASE
)
REDACTED = "***"


def redact_passwords(text: str, *secrets: str | None) -> str:
    """`text` with every password in a `scheme://user:password@host` URL (however it is written), in a
    `password=` query option, and each of `secrets`, as ***."""
    from urllib.parse import quote

    out = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{REDACTED}@", str(text))
    out = _QUERY_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}", out)
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe="")}:
                out = out.replace(form, REDACTED)
    return out


def split_password(url: str) -> tuple[str, str | None]:
    """(`url` without its password, the password or None): the password can travel in PGPASSWORD instead.

    The user information is read as `warehouse.parse_url` reads it: the URL's authority ends at the first
    `/` or `?`, and the password runs from the first `:` of the user information to the authority's last `@`.
    """
    from urllib.parse import unquote

    scheme, sep, rest = str(url).partition("://")
    if not sep:
        return url, None
    authority = rest.partition("?")[0].partition("/")[0]
    userinfo, at, host = authority.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if not at or not colon:
        return url, None
    return f"{scheme}://{user}@{host}{rest[len(authority) :]}", unquote(password)


MISPLACED_PASSWORD = (
    "the password cannot be read from this URL; give it in PGPASSWORD or ~/.pgpass, or write it as "
    "postgres://USER:PASSWORD@HOST/DB with any / ? # @ in it written %2F %3F %23 %40"
)


def password_misplaced(url: str) -> bool:
    """True when `url` may hold a password that `split_password` cannot take out: a `password=` option, a
    password with an unencoded / ? or # (the URL is then malformed), or an @ after a PostgreSQL URL's host (the
    end of such a password, or a database name to write with %40). Such a URL is refused with MISPLACED_PASSWORD
    and shown through `redact_passwords`, never as given; so is one whose password is followed by another @
    after its host (`user:Tr0ub@dor?Secret@host`: an @ and a ? in the password, whose rest was shown as the host,
    a probe)."""
    rest, password = split_password(url)
    scheme, _, after = rest.partition("://")
    path = after.partition("?")[0].partition("/")[2] if scheme.lower() in ("postgres", "postgresql") else ""
    authority = after.partition("?")[0].partition("/")[0]
    later_at = password is not None and "@" in after[len(authority) :]
    return redact_passwords(rest) != rest or "@" in path or later_at
