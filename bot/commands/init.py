"""``kefu init DIR``: write commented templates of the shop folder's files (``KEFU_SHOP_DIR``).

``scripts.toml`` lists every documented script, commented out, with its placeholders; ``banned.toml``
and ``faq.toml`` show the schema with one commented example each. An existing file is never overwritten:
the command refuses and writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from replies.catalogue import OPTIONAL_IN_OVERRIDE, load_scripts

__all__ = ["TEMPLATE_NAMES", "init_command", "templates"]

TEMPLATE_NAMES: tuple[str, ...] = ("scripts.toml", "banned.toml", "faq.toml")

_SCRIPTS_HEAD = """\
# The shop's own wording of the documented scripts (kefu's replies/scripts.toml), by key.
#
# Uncomment a table and change its text; keep source (where your wording comes from). An override keeps
# every placeholder of the documented text ({shop} may be left out: write your name instead) and adds
# none; a text the outbound guard blocks is refused. A variant is overridden as [KEY.variants.NAME].
# A broken file stops `kefu run` with one line naming the file, the entry and the field;
# `systemctl reload kefu` (or kill -HUP) reloads the folder.
"""

_BANNED = """\
# The shop's own banned phrasings and allowed phrases, added to kefu's guards/banned.toml (same schema).
#
# category is one the shop adds here as a [[category]] table, or one of the packaged ones:
#   讽刺语 命令语 责备语 埋怨语 教训语 推卸语 烦躁语 随意附和语 不可以说
# suggestion is the better wording the agent is offered instead.
#
# [[category]]
# name = "本店禁语"
# source = "本店客服守则 第1条"
#
# [[entry]]
# id = "shop-01"
# category = "讽刺语"
# phrase = "爱买不买"
# source = "本店客服守则 第3条"
# suggestion = "非常抱歉，您还有什么顾虑吗？我帮您详细介绍一下。"
#
# [[allow]]
# phrase = "本店概不负责任何虚假宣传"
# source = "本店客服守则 第9条"
"""

_FAQ = """\
# The shop's own questions and answers.
#
# A customer message close to an example gets the answer (intent `faq`); a weaker match is offered to
# the agent as a one-tap suggestion. Answers must pass the outbound guard. ids are unique.
#
# [[faq]]
# id = "shipping_time"
# examples = [
#     "什么时候发货",
#     "多久能发货",
#     "今天下单几天到",
# ]
# answer = "亲，现货订单48小时内发货，发货后一般2-4天送达。"
"""


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scripts_template() -> str:
    lines = [_SCRIPTS_HEAD]
    for script in load_scripts():
        keep = sorted(script.placeholders - OPTIONAL_IN_OVERRIDE)
        if keep:
            lines.append(f"#   (keep {' '.join('{' + n + '}' for n in keep)})")
        lines.append(f"# [{script.key}]")
        lines.append(f"# text = {_toml_string(script.text)}")
        lines.append('# source = "本店"')
        for name, text in script.variants.items():
            lines.append(f"# [{script.key}.variants.{name}]")
            lines.append(f"# text = {_toml_string(text)}")
            lines.append('# source = "本店"')
        lines.append("")
    return "\n".join(lines)


def templates() -> dict[str, str]:
    """Return the template text of each shop file, by file name (every line a comment or blank)."""
    return {"scripts.toml": _scripts_template(), "banned.toml": _BANNED, "faq.toml": _FAQ}


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init_command(directory: Path) -> None:
    """Write commented templates of scripts.toml, banned.toml and faq.toml into DIRECTORY (for KEFU_SHOP_DIR).

    Refuses (exit 2, nothing written) when any of them exists already.
    """
    existing = [name for name in TEMPLATE_NAMES if (directory / name).exists()]
    if existing:
        click.echo(f"kefu: {directory / existing[0]} exists; not overwritten (nothing written)", err=True)
        raise SystemExit(2)
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in templates().items():
        (directory / name).write_text(text, encoding="utf-8")
        click.echo(f"wrote {directory / name}")
    click.echo(f"set KEFU_SHOP_DIR={directory.resolve()} to use it")
