"""The definitions document stays the one the code cites.

- every `docs/definitions.md#anchor` cited in the package, parameters, notebooks or docs is a heading
  of docs/definitions.md (GitHub's anchor rules), and the page's own `#anchor` links resolve;
- every `reportlib.x.y` name the page cites as the code that computes a figure exists;
- no file of the repository refers to the original product spec, which is not in the repository.
"""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFINITIONS = ROOT / "docs" / "definitions.md"
# Built from parts so that this file does not contain the name it looks for.
SPEC_NAME = "SPEC" + ".md"
CITATION = re.compile(r"docs/definitions\.md#([A-Za-z0-9_-]+)")
CITED_IN = ("reportlib", "parameters", "notebooks", "docs", "bench", "README.md")
SKIP_DIRS = {".git", ".venv", "venv", ".cache", "data", "outputs", "__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*|_{2,}", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> list[str]:
    """Anchors of every heading, outside fenced code blocks, in order (duplicates get -1, -2 like GitHub)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else f"{base}-{n}")
    return out


def test_slug_follows_github_rules():
    assert slug("Service level: abandons within T met") == "service-level-abandons-within-t-met"
    assert slug("Voluntary, involuntary and regretted") == "voluntary-involuntary-and-regretted"
    assert slug("reportlib kpis") == "reportlib-kpis"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == ["a", "a-1"]


def _text_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    return [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not SKIP_DIRS & set(p.relative_to(ROOT).parts)
        and p.suffix in {".py", ".md", ".yaml", ".yml", ".ipynb", ".j2", ".txt", ".toml", ".cfg"}
    ]


def _citations() -> dict[str, list[str]]:
    """Anchor -> the files citing docs/definitions.md#anchor."""
    found: dict[str, list[str]] = {}
    for name in CITED_IN:
        base = ROOT / name
        if not base.exists():
            continue
        for path in _text_files(base):
            for anchor in CITATION.findall(path.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(anchor, []).append(str(path.relative_to(ROOT)))
    return found


def test_definitions_headings_are_unique():
    heads = anchors(DEFINITIONS.read_text(encoding="utf-8"))
    dupes = sorted({h for h in heads if heads.count(h) > 1})
    assert not dupes, f"docs/definitions.md has headings with the same anchor: {dupes}"


def test_every_cited_definition_exists():
    heads = set(anchors(DEFINITIONS.read_text(encoding="utf-8")))
    cited = _citations()
    # The package cites the page: the check below is not vacuous.
    assert any(f.startswith("reportlib") for files in cited.values() for f in files)
    missing = {a: files for a, files in cited.items() if a not in heads}
    assert not missing, f"cited anchors with no heading in docs/definitions.md: {missing}"


def test_links_inside_definitions_resolve():
    text = DEFINITIONS.read_text(encoding="utf-8")
    heads = set(anchors(text))
    links = re.findall(r"\]\(#([^)\s]+)\)", text)
    assert links
    assert sorted(set(links) - heads) == []
    for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", text):
        assert (DEFINITIONS.parent / target).exists(), target


def test_code_named_in_definitions_exists():
    """Each `reportlib.module.name` the page gives as the computing code can be imported."""
    text = DEFINITIONS.read_text(encoding="utf-8")
    names = sorted(set(re.findall(r"`(reportlib(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`", text)))
    assert len(names) > 40
    missing = []
    for dotted in names:
        parts = dotted.split(".")
        obj = None
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr, None)
            break
        if obj is None:
            missing.append(dotted)
    assert not missing, f"docs/definitions.md names code that does not exist: {missing}"


def _repository_files() -> list[Path]:
    """Tracked and untracked-but-not-ignored files (git), else every file outside build/data folders."""
    if (ROOT / ".git").exists():
        try:
            out = subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
            return [ROOT / p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]
        except (OSError, subprocess.CalledProcessError):
            pass
    return [p for p in ROOT.rglob("*") if p.is_file() and not SKIP_DIRS & set(p.relative_to(ROOT).parts)]


def test_no_file_mentions_the_original_spec():
    files = [p for p in _repository_files() if p.is_file()]
    assert len(files) > 50
    needle = SPEC_NAME.encode()
    hits = [str(p.relative_to(ROOT)) for p in files if needle in p.read_bytes()]
    assert not hits, f"{SPEC_NAME} is not in the repository; cite docs/definitions.md instead in: {hits}"


@pytest.mark.parametrize(
    "anchor",
    [
        "service-level",
        "service-level-offered",
        "service-level-answered",
        "service-level-abandons-excluded",
        "service-level-abandons-within-t-met",
        "repeat-contact-fcr",
        "email-first-response",
        "business-calendar",
        "month-to-date-projection",
        "shrinkage-parts",
        "annualized-attrition",
        "erlang-a",
        "shrinkage-to-fte",
        "forecast-records",
        "reportlib-kpis",
        "reportlib-staffing",
        "reportlib-forecast",
        "reportlib-attrition",
    ],
)
def test_the_brief_sections_exist(anchor):
    assert anchor in anchors(DEFINITIONS.read_text(encoding="utf-8"))
