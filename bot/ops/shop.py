"""The shop's own folder (``KEFU_SHOP_DIR``): banned.toml, scripts.toml, faq.toml, loaded together.

:func:`load_shop` validates every file and returns the catalogues without installing anything, so a
reload that finds a broken edit keeps the old ones; :func:`use_shop_folder` loads and installs them for
every surface (the bot, ``kefu classify``, the demo). Errors are one line each: ``CatalogueError``
(banned.toml), ``ScriptError`` (scripts.toml) or ``FaqError`` (faq.toml), naming the file, the entry
and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from guards import Guard, load_shop_catalogue, use_shop
from replies.catalogue import Script, ScriptCatalogue, load_shop_scripts, use_scripts
from replies.faq import FaqCatalogue, load_faq, use_faq

__all__ = ["Shop", "guard_refusal", "load_shop", "use_shop_folder"]


@dataclass(frozen=True)
class Shop:
    """The validated catalogues of one shop folder (or of the package alone, without a folder)."""

    shop_dir: Path | None
    guard: Guard
    scripts: ScriptCatalogue  # with the FAQ answers as script ``faq``, one variant per id
    faq: FaqCatalogue


def guard_refusal(guard: Guard, text: str) -> str | None:
    """Return why ``guard`` does not let ``text`` go out (level and the entries hit), or None when it does."""
    verdict = guard.check(text)
    if verdict.allowed:
        return None
    hits = ", ".join(hit.entry_id for hit in verdict.hits) or "no entry"
    return f"{verdict.level} ({hits})"


def load_shop(shop_dir: str | Path | None) -> Shop:
    """Return the shop folder's catalogues, validated (the shop's texts pass its own guard); install nothing.

    Raises ``CatalogueError``, ``ScriptError`` or ``FaqError`` naming the file, the entry and the field.
    """
    folder = Path(shop_dir) if shop_dir is not None else None
    guard = Guard.from_catalogue(load_shop_catalogue(folder))
    scripts = load_shop_scripts(folder, refuse=lambda text: guard_refusal(guard, text))
    faq = load_faq(folder, refuse=lambda text: guard_refusal(guard, text))
    return Shop(folder, guard, _with_faq_answers(scripts, faq), faq)


def _with_faq_answers(scripts: ScriptCatalogue, faq: FaqCatalogue) -> ScriptCatalogue:
    """Return ``scripts`` plus script ``faq``: its variants are the answers by FAQ id (sent like a script)."""
    if not len(faq):
        return scripts
    source = str(faq.path)
    answers = Script(
        key="faq",
        text="",
        variants=MappingProxyType({entry.id: entry.answer for entry in faq.faqs}),
        placeholders=frozenset(),
        source=source,
        variant_sources=MappingProxyType({entry.id: f"{source} [{entry.id}]" for entry in faq.faqs}),
    )
    return ScriptCatalogue({**{s.key: s for s in scripts}, "faq": answers}, scripts.path)


def use_shop_folder(shop_dir: str | Path | None) -> Shop:
    """Load the shop folder (see :func:`load_shop`) and make it the one every check and reply uses; return it.

    Nothing is installed when any file is broken (the error propagates).
    """
    shop = load_shop(shop_dir)
    use_shop(shop.shop_dir)
    use_scripts(shop.scripts)
    use_faq(shop.faq)
    return shop
