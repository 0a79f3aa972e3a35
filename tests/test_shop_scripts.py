"""A shop's own wording (KEFU_SHOP_DIR/scripts.toml) and ``kefu init``: validated, used by every surface."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bot.commands.cli import main
from bot.commands.init import TEMPLATE_NAMES
from bot.desk.customers import CustomerRef, SupportDesk
from bot.ops.runner import load_catalogues
from bot.ops.shop import load_shop, use_shop_folder
from bot.store.sqlite import open_storage
from replies import ScriptError, render
from replies.catalogue import load_scripts, load_shop_scripts

TZ = ZoneInfo("Asia/Shanghai")
OPEN = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)

SHOP_SCRIPTS = """
[service_hours]
text = "亲，本店客服时间：{hours}，欢迎随时留言。"
source = "本店客服守则 第1条"

[greeting.variants.festival]
text = "节日快乐，{shop}客服为您服务！"
source = "本店客服守则 第2条"
"""


@pytest.fixture
def shop_dir(tmp_path: Path):
    (tmp_path / "scripts.toml").write_text(SHOP_SCRIPTS, encoding="utf-8")
    yield tmp_path
    use_shop_folder(None)


def test_overrides_replace_documented_scripts_by_key(shop_dir: Path) -> None:
    scripts = load_shop_scripts(shop_dir)
    assert scripts.render("service_hours", hours="每天 9-18") == "亲，本店客服时间：每天 9-18，欢迎随时留言。"
    assert scripts.get("service_hours").source == "本店客服守则 第1条"
    assert scripts.render("greeting", "festival", shop="小店") == "节日快乐，小店客服为您服务！"
    assert scripts.render("greeting", shop="小店") == render("greeting", shop="小店")  # untouched
    assert scripts.render("closing") == render("closing")
    assert len(scripts) == len(load_scripts())


def test_no_folder_or_no_file_is_the_package(tmp_path: Path) -> None:
    assert load_shop_scripts(None).keys() == load_scripts().keys()
    assert load_shop_scripts(tmp_path).render("closing") == render("closing")


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[complaint_receipt]\ntext = "已收到您的投诉。"\nsource = "s"\n', "[complaint_receipt] text: drops"),
        (
            '[service_hours]\ntext = "{hours}，工单{ticket}"\nsource = "s"\n',
            "[service_hours] text: placeholder {ticket}",
        ),
        ('[nosuch]\ntext = "好"\nsource = "s"\n', "[nosuch] not a documented script key"),
        ('[thanks]\ntext = "好"\n', "[thanks] entry: Value error, source: required"),
        ('[thanks]\ntext = "好"\nsource = "s"\ncolour = 1\n', "[thanks] colour"),
        ('[greeting.variants.birthday]\ntext = "好"\nsource = "s"\n', "[greeting] variants.birthday"),
        (
            '[complaint_followup.variants.overdue]\ntext = "正在加急"\nsource = "s"\n',
            "[complaint_followup] variants.overdue.text: drops the placeholder {ticket}",
        ),
        ("[thanks\n", "cannot read scripts"),
    ],
)
def test_a_broken_override_names_file_entry_and_field(tmp_path: Path, content: str, named: str) -> None:
    (tmp_path / "scripts.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_shop_scripts(tmp_path)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "scripts.toml")) and named in message and "\n" not in message


def test_shop_name_may_be_written_out(tmp_path: Path) -> None:
    (tmp_path / "scripts.toml").write_text(
        '[greeting]\ntext = "您好，小米粒为您服务！"\nsource = "s"\n', "utf-8"
    )
    assert load_shop_scripts(tmp_path).render("greeting", shop="") == "您好，小米粒为您服务！"


def test_an_override_the_guard_blocks_is_refused(tmp_path: Path) -> None:
    (tmp_path / "scripts.toml").write_text('[thanks]\ntext = "这与我无关"\nsource = "s"\n', encoding="utf-8")
    with pytest.raises(ScriptError, match=r"\[thanks\] text: the outbound guard refuses it: block"):
        load_shop(tmp_path)


def test_the_shops_own_banned_phrasing_refuses_its_override(tmp_path: Path) -> None:
    banned = (
        '[[entry]]\nid = "shop-01"\ncategory = "讽刺语"\nphrase = "爱买不买"\nsource = "本店守则"\n'
        'suggestion = "您还有什么顾虑吗？"\n'
    )
    (tmp_path / "banned.toml").write_text(banned, encoding="utf-8")
    (tmp_path / "scripts.toml").write_text('[thanks]\ntext = "爱买不买，谢谢"\nsource = "s"\n', "utf-8")
    with pytest.raises(ScriptError, match=r"shop-01"):
        load_shop(tmp_path)


def test_the_bot_replies_with_the_override(shop_dir: Path, settings) -> None:
    load_catalogues(settings.model_copy(update={"shop_dir": shop_dir}))
    storage = open_storage(settings.db_path)
    try:
        outcome = SupportDesk(storage, settings).on_customer_message(
            CustomerRef(42, 42, "张三", None), "你们几点上班", at=OPEN
        )
    finally:
        storage.close()
    assert outcome.replies[0].text == f"亲，本店客服时间：{settings.business_hours_text}，欢迎随时留言。"


def test_classify_and_demo_use_the_override(shop_dir: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KEFU_SHOP_DIR", str(shop_dir))
    monkeypatch.setenv("KEFU_DB_PATH", str(tmp_path / "demo.db"))
    runner = CliRunner()
    result = runner.invoke(main, ["classify", "你们几点上班"])
    assert result.exit_code == 0 and "reply: 亲，本店客服时间：" in result.output
    demo = runner.invoke(main, ["demo"], input="你们几点上班\n")
    assert "亲，本店客服时间：" in demo.output


def test_a_broken_shop_file_stops_start_up_with_one_line(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "scripts.toml").write_text('[complaint_receipt]\ntext = "收到"\nsource = "s"\n', "utf-8")
    monkeypatch.setenv("KEFU_SHOP_DIR", str(tmp_path))
    monkeypatch.setenv("KEFU_DB_PATH", str(tmp_path / "demo.db"))
    for args in (["classify", "你好"], ["demo"]):
        result = CliRunner().invoke(main, args, input="")
        assert result.exit_code == 2
        (line,) = result.output.strip().splitlines()
        assert (
            line.startswith("kefu: ") and "[complaint_receipt] text: drops the placeholder {ticket}" in line
        )


def test_init_writes_commented_templates_that_load_as_they_are(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 0
    for name in TEMPLATE_NAMES:
        text = (folder / name).read_text(encoding="utf-8")
        assert all(line.startswith("#") or not line.strip() for line in text.splitlines())
        assert tomllib.loads(text) == {}
    assert load_shop(folder).scripts.keys() == load_scripts().keys()
    scripts = (folder / "scripts.toml").read_text(encoding="utf-8")
    assert all(f"# [{key}]" in scripts for key in load_scripts().keys())
    assert "#   (keep {ticket})\n# [complaint_receipt]" in scripts


def _uncomment(path: Path) -> None:
    """Turn the template's commented TOML lines (tables and key = value) into TOML."""
    lines = path.read_text(encoding="utf-8").splitlines()
    toml = [line[2:] for line in lines if line.startswith("# ") and (line[2:3] == "[" or " = " in line)]
    path.write_text("\n".join(toml) + "\n", encoding="utf-8")


def test_init_uncommented_templates_are_valid(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["init", str(tmp_path)])
    _uncomment(tmp_path / "scripts.toml")
    _uncomment(tmp_path / "banned.toml")
    faq = (tmp_path / "faq.toml").read_text(encoding="utf-8").splitlines()
    (tmp_path / "faq.toml").write_text("\n".join(line[2:] for line in faq[5:]) + "\n", encoding="utf-8")
    shop = load_shop(tmp_path)
    assert shop.faq.match("什么时候发货").faq.id == "shipping_time"
    assert shop.scripts.render("closing") == render("closing")
    assert shop.scripts.get("closing").source == "本店"
    assert shop.guard.check("爱买不买").level == "block"


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "faq.toml").write_text("# mine\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 2 and "faq.toml exists" in result.output
    assert not (tmp_path / "scripts.toml").exists()
    assert (tmp_path / "faq.toml").read_text(encoding="utf-8") == "# mine\n"
