"""The README is what a newcomer needs; each feature's manual is a page in docs/ that the README links
(issue 14 item 13). Checks that could fail: a README grown back, a dead link, an unlinked page."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_is_short_and_has_what_a_newcomer_needs():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings == ["Two commands", "Architecture", "Where the rest is"]
    for needed in ("make run", "make test", "PORT=8080 make run", "inflow-demo", "demo-admin", "demo-credit",
                   "demo-collector", "demo-viewer", "demo-support", "/admin/"):
        assert needed in text, needed


def test_every_manual_in_docs_is_linked_from_the_readme():
    linked = {Path(target).name for target in LINK.findall(README.read_text(encoding="utf-8"))
              if target.startswith("docs/")}
    pages = {page.name for page in (ROOT / "docs").glob("*.md")}
    assert pages - linked == set()
    for feature in ("api.md", "import.md", "dunning.md", "credit.md", "factoring.md", "insurance.md",
                    "forecasting.md", "weekly-report.md", "security.md", "deployment.md", "ui.md"):
        assert feature in pages


def test_every_relative_link_in_the_readme_and_docs_resolves():
    broken = []
    for page in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_worked_examples_and_figures_moved_with_their_sections():
    docs = {page.name: page.read_text(encoding="utf-8") for page in (ROOT / "docs").glob("*.md")}
    assert "<!-- quickstart:start -->" in docs["api.md"]  # tests/api/test_readme_quickstart.py runs it
    assert "provision\n**53,129.62**" in docs["forecasting.md"] or "**53,129.62**" in docs["forecasting.md"]
    assert "123,456.78" in docs["factoring.md"]
    assert "**858 / 746 ms / 1.15**" in docs["benchmarks.md"]
    assert "| `AXES_FAILURE_LIMIT` | `10` |" in docs["security.md"]
