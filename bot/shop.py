"""The shop's own folder (``KEFU_SHOP_DIR``): banned.toml, scripts.toml, faq.toml, loaded together.

:func:`load_shop` validates every file and returns the catalogues without installing anything, so a
reload that finds a broken edit keeps the old ones; :func:`use_shop_folder` loads and installs them for
every surface (the bot, ``kefu classify``, the demo). Errors are one line each: ``CatalogueError``
(banned.toml) or ``ScriptError`` (scripts.toml), naming the file, the entry and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from guards import Guard, load_shop_catalogue, use_shop
from replies.catalogue import ScriptCatalogue, load_shop_scripts, use_scripts

__all__ = ["Shop", "guard_refusal", "load_shop", "use_shop_folder"]


@dataclass(frozen=True)
class Shop:
    """The validated catalogues of one shop folder (or of the package alone, without a folder)."""

    shop_dir: Path | None
    guard: Guard
    scripts: ScriptCatalogue


def guard_refusal(guard: Guard, text: str) -> str | None:
    """Return why ``guard`` does not let ``text`` go out (level and the entries hit), or None when it does."""
    verdict = guard.check(text)
    if verdict.allowed:
        return None
    hits = ", ".join(hit.entry_id for hit in verdict.hits) or "no entry"
    return f"{verdict.level} ({hits})"


def load_shop(shop_dir: str | Path | None) -> Shop:
    """Return the shop folder's catalogues, validated (the shop's texts pass its own guard); install nothing.

    Raises ``CatalogueError`` or ``ScriptError`` naming the file, the entry and the field.
    """
    folder = Path(shop_dir) if shop_dir is not None else None
    guard = Guard.from_catalogue(load_shop_catalogue(folder))
    scripts = load_shop_scripts(folder, refuse=lambda text: guard_refusal(guard, text))
    return Shop(folder, guard, scripts)


def use_shop_folder(shop_dir: str | Path | None) -> Shop:
    """Load the shop folder (see :func:`load_shop`) and make it the one every check and reply uses; return it.

    Nothing is installed when any file is broken (the error propagates).
    """
    shop = load_shop(shop_dir)
    use_shop(shop.shop_dir)
    use_scripts(shop.scripts)
    return shop
