"""The banned-phrasing catalogue: every entry sourced and valid; broken files fail with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from guards import CATEGORIES, CatalogueError, check, load_catalogue

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"  # ../shared beside the checkout
GOOD_ENTRY = """
[[entry]]
id = "{id}"
category = "{category}"
phrase = "{phrase}"
source = "003_e5ca20d198a4b2ad.txt 第5篇"
suggestion = "请问还有什么可以帮您?"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "banned.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_catalogue_loads_and_covers_every_category() -> None:
    catalogue = load_catalogue()
    assert {entry.category for entry in catalogue.entries} == set(CATEGORIES)
    assert len({entry.id for entry in catalogue.entries}) == len(catalogue.entries)


@pytest.mark.parametrize("entry", load_catalogue().entries, ids=lambda entry: entry.id)
def test_every_entry_names_a_seed_document(entry) -> None:
    name = entry.source.split()[0]
    assert name.startswith(("000_", "001_", "002_", "003_", "004_"))
    if SEEDS.exists():
        assert (SEEDS / name).exists()


@pytest.mark.parametrize("entry", load_catalogue().entries, ids=lambda entry: entry.id)
def test_every_suggestion_passes_the_guard(entry) -> None:
    verdict = check(entry.suggestion)
    assert verdict.allowed, (entry.suggestion, verdict.hits)


@pytest.mark.parametrize("item", load_catalogue().allow, ids=lambda item: item.phrase)
def test_every_allowed_phrase_passes_and_is_sourced(item) -> None:
    assert item.source
    assert check(item.phrase).allowed


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            GOOD_ENTRY.format(id="mingling-03", category="命令", phrase="快一点"),
            "banned.toml: entry 'mingling-03': field 'category': '命令' is not one of",
        ),
        (
            GOOD_ENTRY.format(id="a", category="命令语", phrase="快一点")
            + GOOD_ENTRY.format(id="a", category="命令语", phrase="慢一点"),
            "banned.toml: entry 'a': field 'id': duplicate id",
        ),
        (GOOD_ENTRY.format(id="e-1", category="命令语", phrase=""), "entry 'e-1': field 'phrase'"),
        (GOOD_ENTRY.format(id="e-2", category="命令语", phrase="！？"), "entry 'e-2': field 'phrase'"),
        (
            GOOD_ENTRY.format(id="e-3", category="命令语", phrase="快一点") + 'colour = "red"\n',
            "entry 'e-3': field 'colour': unknown field",
        ),
        (
            GOOD_ENTRY.format(id="e-4", category="命令语", phrase="快一点") + 'clauses = ["慢"]\n',
            "entry 'e-4': field 'clauses'",
        ),
        (
            GOOD_ENTRY.format(id="e-5", category="命令语", phrase="快一点").replace("source", "sauce"),
            "entry 'e-5': field",
        ),
        (
            '[[entry]]\ncategory = "命令语"\nphrase = "快"\nsource = "s"\nsuggestion = "x"\n',
            "banned.toml: entry #0: field 'id'",
        ),
        ('[[entry]]\nid = "x"\nphrase = \n', "banned.toml: invalid TOML"),
        ("", "banned.toml: no [[entry]] tables"),
        (
            GOOD_ENTRY.format(id="e-6", category="命令语", phrase="快一点") + '[[allow]]\nphrase = "请"\n',
            "banned.toml: allow #0: field 'source'",
        ),
    ],
)
def test_broken_catalogue_names_file_entry_and_field(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(_write(tmp_path, body))
    assert expected in str(info.value)
    assert isinstance(info.value, ValueError)


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="line 3"):
        load_catalogue(_write(tmp_path, '[[entry]]\nid = "x"\nphrase = \n'))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "nope.toml")
