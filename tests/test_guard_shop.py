"""A shop's own phrasings (KEFU_SHOP_DIR/banned.toml): validated like the package, used by every surface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.commands.check import check_command
from guards import CatalogueError, check, load_shop_catalogue, use_shop

SHOP_FILE = """
[[entry]]
id = "shop-01"
category = "讽刺语"
phrase = "爱买不买"
source = "本店客服守则 第3条"
suggestion = "非常抱歉，您还有什么顾虑吗？我帮您详细介绍一下。"

[[entry]]
id = "shop-02"
category = "推卸语"
phrase = "本店概不负责"
source = "本店客服守则 第4条"
suggestion = "很抱歉，我先帮您核实一下，马上回复您。"

[[allow]]
phrase = "本店概不负责任何虚假宣传"
source = "本店客服守则 第9条"
"""


TAIL = 'source = "s"\nsuggestion = "好"\n'


@pytest.fixture
def shop_dir(tmp_path: Path):
    (tmp_path / "banned.toml").write_text(SHOP_FILE, encoding="utf-8")
    yield tmp_path
    use_shop(None)


def test_shop_entries_and_allowed_phrases_are_added(shop_dir: Path) -> None:
    catalogue = load_shop_catalogue(shop_dir)
    assert catalogue.by_id("shop-02").source == "本店客服守则 第4条"
    assert catalogue.by_id("tuixie-01")  # the package is still there
    assert check("这个本店概不负责").level != "block"  # not yet: the default guard is the package's
    use_shop(shop_dir)
    verdict = check("这个本店概不负责")
    assert verdict.level == "block" and verdict.hits[0].entry_id == "shop-02"
    assert check("本店概不负责任何虚假宣传").allowed


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[[entry]]\nid = "s-1"\ncategory = "无理语"\nphrase = "x"\n' + TAIL, "category"),
        ('[[entry]]\nid = "s-1"\ncategory = "推卸语"\nphrase = "x"\nsuggestion = "好"\n', "source"),
        ('[[entry]]\nid = "tuixie-01"\ncategory = "推卸语"\nphrase = "x"\n' + TAIL, "id"),
    ],
)
def test_a_broken_shop_file_names_file_entry_and_field(tmp_path: Path, content: str, named: str) -> None:
    (tmp_path / "banned.toml").write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueError) as error:
        load_shop_catalogue(tmp_path)
    message = str(error.value)
    assert "banned.toml" in message and "entry" in message and f"'{named}'" in message


def test_a_shop_adds_its_own_category_as_data(tmp_path: Path) -> None:
    (tmp_path / "banned.toml").write_text(
        '[[category]]\nname = "本店禁语"\nsource = "本店客服守则 第1条"\n\n'
        '[[entry]]\nid = "shop-own"\ncategory = "本店禁语"\nphrase = "别问我"\n' + TAIL,
        encoding="utf-8",
    )
    catalogue = load_shop_catalogue(tmp_path)
    assert catalogue.category_names[-1] == "本店禁语" and "推卸语" in catalogue.category_names
    try:
        use_shop(tmp_path)
        verdict = check("别问我")
        assert not verdict.allowed and verdict.hits[0].category == "本店禁语"
    finally:
        use_shop(None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[category]]\nname = "推卸语"\nsource = "s"\n', "category '推卸语': field 'name': duplicate"),
        ('[[category]]\nname = "本店禁语"\n', "category #0: field 'source'"),
    ],
)
def test_a_broken_category_names_file_category_and_field(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "banned.toml").write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueError) as error:
        load_shop_catalogue(tmp_path)
    assert "banned.toml" in str(error.value) and message in str(error.value)


def test_kefu_check_uses_the_shop_dir(shop_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_SHOP_DIR", str(shop_dir))
    result = CliRunner().invoke(check_command, ["--jsonl"], input=json.dumps({"text": "本店概不负责"}) + "\n")
    row = json.loads(result.output)
    assert row["allowed"] is False and row["hits"][0]["entry_id"] == "shop-02"
    assert CliRunner().invoke(check_command, ["本店概不负责"]).exit_code == 1


def test_kefu_check_stops_with_one_line_on_a_broken_shop_file(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "banned.toml").write_text("[[entry]]\nid = 3\n", encoding="utf-8")
    monkeypatch.setenv("KEFU_SHOP_DIR", str(tmp_path))
    result = CliRunner().invoke(check_command, ["您好"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "banned.toml" in result.output
    use_shop(None)
