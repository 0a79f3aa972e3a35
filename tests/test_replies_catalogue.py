"""The scripts catalogue: every entry sourced and loadable, placeholders checked, rendering strict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replies import INTENT_KEYS, MissingValue, ScriptError, load_scripts, render, script_for
from replies.catalogue import PLACEHOLDERS, REQUIRED_SCRIPTS

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"  # ../shared beside the checkout
CATALOGUE = load_scripts()
ALL_VALUES = {
    "shop": "小米粒旗舰店",
    "agent_no": "007",
    "ticket": "T-1",
    "hours": "08:00-12:00",
    "reopen_at": "14:00",
    "guess": "退款",
}


def test_every_required_script_and_variant_is_there():
    for key, variants in REQUIRED_SCRIPTS.items():
        assert key in CATALOGUE
        assert variants <= set(CATALOGUE.get(key).variants)


@pytest.mark.parametrize("key", CATALOGUE.keys())
def test_every_script_names_a_seed_document(key):
    script = CATALOGUE.get(key)
    for source in (script.source, *script.variant_sources.values()):
        names = re.findall(r"\b\d{3}_[0-9a-f]{16}(?:\.readable)?\.txt", source)
        assert names, source
        if SEEDS.is_dir():
            assert all((SEEDS / name).is_file() for name in names)


@pytest.mark.parametrize("key", CATALOGUE.keys())
def test_every_script_renders_without_braces(key):
    script = CATALOGUE.get(key)
    for variant in (None, *script.variants):
        text = script.render(variant, **ALL_VALUES)
        assert "{" not in text and "}" not in text
        assert script.placeholders <= PLACEHOLDERS


@pytest.mark.parametrize("key", CATALOGUE.keys())
def test_scripts_are_simplified_chinese(key):
    opencc = pytest.importorskip("opencc")
    t2s = opencc.OpenCC("t2s")
    script = CATALOGUE.get(key)
    for text in (script.text, *script.variants.values()):
        assert t2s.convert(text) == text


@pytest.mark.parametrize("intent", INTENT_KEYS)
def test_every_intent_has_a_script(intent):
    if intent == "other":  # a message for a person: never auto-answered (policy.toml)
        assert script_for(intent) is None
    else:
        assert script_for(intent) in CATALOGUE


@pytest.mark.parametrize(
    ("intent", "key"),
    [
        ("complaint", "complaint_receipt"),
        ("human_request", "human_request_1"),
        ("uncivil", "uncivil_1"),
        ("goodbye", "closing"),
        ("greeting", "greeting"),
    ],
)
def test_script_for(intent, key):
    assert script_for(intent) == key


def test_script_for_unknown_intent():
    with pytest.raises(KeyError):
        script_for("weather")


@pytest.mark.parametrize(
    ("key", "variant", "values", "expected"),
    [
        ("greeting", None, {"shop": "小米粒旗舰店"}, "您好，小米粒旗舰店，很高兴为您服务！"),
        ("greeting", "new_year", {"shop": "本店"}, "新年好，本店，很高兴为您服务！"),
        ("greeting", "festival", {"shop": "本店"}, "节日好，本店，很高兴为您服务！"),
        # KEFU_SHOP_NAME unset: the name and its comma are left out, the greeting still reads naturally.
        ("greeting", None, {"shop": ""}, "您好，很高兴为您服务！"),
        ("greeting", "new_year", {"shop": ""}, "新年好，很高兴为您服务！"),
        ("greeting", "festival", {"shop": ""}, "节日好，很高兴为您服务！"),
        ("unclear", "guess", {"guess": "申请退款"}, "您好，您是不是说申请退款？您看我理解得对吗？"),
        ("agent_identity", None, {"agent_no": "12"}, "我是12号，如服务不周请您谅解。"),
    ],
)
def test_render(key, variant, values, expected):
    assert render(key, variant, **values) == expected


def test_render_fills_ticket_and_ignores_extra_values():
    text = render("complaint_receipt", ticket="T-2026-0042", shop="x", unused=1)
    assert "T-2026-0042" in text


@pytest.mark.parametrize(
    ("key", "variant"),
    [("greeting", None), ("complaint_receipt", None), ("unclear", "guess"), ("off_hours_closed", None)],
)
def test_missing_value_is_an_error(key, variant):
    with pytest.raises(MissingValue) as info:
        render(key, variant)
    assert isinstance(info.value, KeyError)
    assert key in str(info.value)


@pytest.mark.parametrize(("key", "variant"), [("no_such_script", None), ("greeting", "no_such_variant")])
def test_unknown_key_or_variant(key, variant):
    with pytest.raises(KeyError):
        render(key, variant, **ALL_VALUES)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scripts.toml"
    original = (Path(__file__).parent.parent / "replies" / "scripts.toml").read_text(encoding="utf-8")
    path.write_text(original + "\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ('[extra]\ntext = "您好{customer}"\nsource = "003 第4篇"\n', ["extra", "text", "{customer}"]),
        (
            '[extra]\ntext = "您好"\nsource = "x"\n[extra.variants.v]\ntext = "{shop!r}"\nsource = "x"\n',
            ["extra", "variants.v.text"],
        ),
        ('[extra]\ntext = "您好"\n', ["extra", "source"]),
        ('[extra]\ntext = "您好"\nsource = "x"\ncolour = "red"\n', ["extra", "colour"]),
        ('[extra]\ntext = "   "\nsource = "x"\n', ["extra", "text"]),
        ('[extra]\ntext = "您好{"\nsource = "x"\n', ["extra", "text"]),
    ],
)
def test_bad_entries_name_file_entry_and_field(tmp_path, body, needles):
    with pytest.raises(ScriptError) as info:
        load_scripts(_write(tmp_path, body))
    assert "scripts.toml" in str(info.value)
    for needle in needles:
        assert needle in str(info.value)


def test_missing_required_key(tmp_path):
    path = tmp_path / "mini.toml"
    path.write_text('[greeting]\ntext = "您好，{shop}"\nsource = "003"\n', encoding="utf-8")
    with pytest.raises(ScriptError, match=r"mini\.toml: \[greeting\] variants\.festival"):
        load_scripts(path)


def test_unreadable_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[greeting\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"broken\.toml"):
        load_scripts(path)


def test_every_script_passes_the_guard():
    guard = pytest.importorskip("guards")
    check = getattr(guard, "check", None)
    if check is None:
        pytest.skip("the guard's check() is not available yet")
    for script in CATALOGUE:
        for variant in (None, *script.variants):
            verdict = check(script.render(variant, **ALL_VALUES))
            assert verdict.allowed, (script.key, variant, verdict)


def test_no_script_renders_a_doubled_comma_or_a_dangling_one_without_a_shop_name():
    from replies import load_scripts

    for script in load_scripts():
        for variant in (None, *script.variants):
            values = dict.fromkeys(script.placeholders, "x") | {"shop": ""}
            try:
                text = script.render(variant, **values)
            except KeyError:
                continue
            doubled = "，，" in text or text.startswith("，") or "，！" in text
            assert not doubled, (script.key, variant)


def test_the_default_settings_greet_without_a_shop_name(db_path):
    from click.testing import CliRunner

    from bot.commands.cli import main

    result = CliRunner().invoke(main, ["classify", "你好"])
    assert result.exit_code == 0
    assert "reply: 您好，很高兴为您服务！" in result.output
