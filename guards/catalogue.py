"""The catalogue of banned phrasings: load ``banned.toml``, validate every entry, fail with a clear message.

A broken file raises :class:`CatalogueError` naming the file, the entry (its id, or its index when it
has none) and the field, e.g. ``banned.toml: entry 'mingling-03': field 'category': '命令' is not one of …``.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from guards.normalize import fold

__all__ = [
    "CATEGORIES",
    "AllowPhrase",
    "Catalogue",
    "CatalogueError",
    "Entry",
    "load_catalogue",
    "load_shop_catalogue",
    "load_toml_file",
    "packaged_categories",
    "pattern_text",
]



# Placeholders the source documents write for a name or number ("您挂XX电话吧", "**先生").
_PLACEHOLDER = re.compile(r"[Xx]{2,}|\*{2,}")


def pattern_text(text: str) -> str:
    """Return the normalised form of a catalogue phrase, without placeholders such as ``XX`` or ``**``.

    >>> pattern_text("喂,没事了吧,您挂XX电话吧。")
    '喂没事了吧您挂电话吧'
    """
    return fold(_PLACEHOLDER.sub("", text))


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; the message names the file, the entry and the field."""


class Entry(BaseModel):
    """One banned phrasing as written in the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    category: str
    phrase: str = Field(min_length=1)
    source: str = Field(min_length=1)
    suggestion: str = Field(min_length=1)
    core: tuple[str, ...] | None = None
    clauses: tuple[str, ...] = ()
    max_edits: int | None = Field(default=None, ge=0, le=5)
    whole: bool = False
    softened_by: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()

    @field_validator("phrase")
    @classmethod
    def _phrase_has_words(cls, value: str) -> str:
        if not pattern_text(value):
            raise ValueError(f"{value!r} has no letters or digits once normalised")
        return value

    @field_validator("core")
    @classmethod
    def _core_words(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            for word in value:
                if not all(fold(part) for part in word.split("|")):
                    raise ValueError(f"{word!r} is empty once normalised")
        return value

    @model_validator(mode="after")
    def _clauses_come_from_phrase(self) -> Entry:
        folded = pattern_text(self.phrase)
        for clause in self.clauses:
            if not pattern_text(clause) or pattern_text(clause) not in folded:
                raise ValueError(f"clauses: {clause!r} does not occur in the phrase {self.phrase!r}")
        return self


class Category(BaseModel):
    """A category of banned phrasing, named as the documents name it (a verdict reports it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1)
    source: str = Field(min_length=1)


class AllowPhrase(BaseModel):
    """A documented polite script or common polite phrase; a banned hit inside it is not a hit."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    phrase: str = Field(min_length=1)
    source: str = Field(min_length=1)

    @field_validator("phrase")
    @classmethod
    def _phrase_has_words(cls, value: str) -> str:
        if not fold(value):
            raise ValueError(f"{value!r} has no letters or digits once normalised")
        return value


@dataclass(frozen=True, slots=True)
class Catalogue:
    """A validated catalogue: its categories, banned entries in file order and the allow-list."""

    entries: tuple[Entry, ...]
    allow: tuple[AllowPhrase, ...]
    path: str
    categories: tuple[Category, ...] = ()

    @property
    def category_names(self) -> tuple[str, ...]:
        """The names of the catalogue's categories, in file order."""
        return tuple(category.name for category in self.categories)

    def by_id(self, entry_id: str) -> Entry:
        """Return the entry with this id (KeyError when there is none)."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)


def _describe(error: ValidationError, fallback_field: str = "") -> tuple[str, str]:
    """Return (field, message) for the first error of a pydantic validation error."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or fallback_field
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    if message.startswith("clauses: "):
        location, message = "clauses", message[len("clauses: ") :]
    return location, message


M = TypeVar("M", bound=BaseModel)


def _table(model: type[M], raw: Any, where: str) -> M:
    """Return ``raw`` validated as ``model``; raise CatalogueError naming ``where`` ("file: entry 'x'") and
    the field at fault."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: not a table")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        field, message = _describe(exc)
        raise CatalogueError(f"{where}: field {field!r}: {message}") from None


def load_toml_file(
    model: type[M], default: str, path: str | Path | None, tables: tuple[str, ...]
) -> tuple[M, str]:
    """Return ``(data, name)``: the TOML file at ``path`` (None: the packaged ``guards/<default>``) validated
    as ``model``, and the file's name for later messages.

    Raises :class:`CatalogueError` when the file cannot be read, is not valid TOML (the message gives the
    line) or breaks the schema: the message names the file, the entry (``concept 'x'`` for the ``id`` of a
    table of one of the array ``tables``) and the field.
    """
    if path is None:
        name = default
        text = resources.files("guards").joinpath(name).read_text(encoding="utf-8")
    else:
        name = Path(path).name
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogueError(f"{path}: cannot read: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{name}: invalid TOML: {exc}") from None
    try:
        return model.model_validate(raw), name
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        table = ".".join(str(part) for part in loc[:2])
        if len(loc) >= 2 and isinstance(loc[1], int) and loc[0] in tables:
            entry = raw.get(loc[0], [])[loc[1]]
            table = f"{loc[0]} {entry.get('id', loc[1])!r}" if isinstance(entry, dict) else table
        field = ".".join(str(part) for part in loc[2:]) or str(loc[-1])
        message = first["msg"].removeprefix("Value error, ")
        raise CatalogueError(f"{name}: {table}: field {field!r}: {message}") from None


def _categories(data: dict[str, Any], name: str, known: tuple[Category, ...]) -> tuple[Category, ...]:
    """Return ``known`` plus the [[category]] tables of ``data``; raise CatalogueError naming the fault."""
    raw_categories = data.get("category", [])
    if not isinstance(raw_categories, list):
        raise CatalogueError(f"{name}: 'category' must be a list of [[category]] tables")
    categories = list(known)
    for index, raw in enumerate(raw_categories):
        category = _table(Category, raw, f"{name}: category #{index}")
        if category.name in {c.name for c in categories}:
            raise CatalogueError(f"{name}: category {category.name!r}: field 'name': duplicate category")
        categories.append(category)
    return tuple(categories)


def _parse(
    data: dict[str, Any], name: str, *, require_entries: bool = True, known: tuple[Category, ...] = ()
) -> Catalogue:
    """Return the catalogue described by parsed TOML ``data``; raise CatalogueError naming what is wrong.

    Entries may use the file's own [[category]] names and those ``known`` (the packaged ones, for a
    shop's file)."""
    unknown = set(data) - {"entry", "allow", "category"}
    if unknown:
        raise CatalogueError(f"{name}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    raw_entries = data.get("entry", [])
    raw_allow = data.get("allow", [])
    if not isinstance(raw_entries, list) or (require_entries and not raw_entries):
        raise CatalogueError(f"{name}: no [[entry]] tables")
    if not isinstance(raw_allow, list):
        raise CatalogueError(f"{name}: 'allow' must be a list of [[allow]] tables")
    categories = _categories(data, name, known)
    names = tuple(category.name for category in categories)
    if require_entries and not names:
        raise CatalogueError(f"{name}: no [[category]] tables")
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_entries):
        label = repr(raw["id"]) if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index}"
        entry = _table(Entry, raw, f"{name}: entry {label}")
        if entry.category not in names:
            message = f"{entry.category!r} is not one of {', '.join(names)}"
            raise CatalogueError(f"{name}: entry {label}: field 'category': {message}")
        if entry.id in seen:
            raise CatalogueError(f"{name}: entry {label}: field 'id': duplicate id")
        seen.add(entry.id)
        entries.append(entry)
    allow = [_table(AllowPhrase, raw, f"{name}: allow #{index}") for index, raw in enumerate(raw_allow)]
    return Catalogue(entries=tuple(entries), allow=tuple(allow), path=name, categories=categories)


def load_catalogue(
    path: str | Path | None = None, *, require_entries: bool = True, known: tuple[Category, ...] = ()
) -> Catalogue:
    """Return the validated catalogue read from ``path`` (default: the packaged ``guards/banned.toml``).

    Raises :class:`CatalogueError` (a ``ValueError``) when the file is missing, is not valid TOML
    (the message gives the line) or an entry is invalid (the message names entry and field). A file
    other than the packaged one may use the packaged categories (``known`` by default) and add its own.

    >>> load_catalogue().by_id("tuixie-01").phrase
    '我不知道。'
    """
    if path is None:
        resource = resources.files("guards").joinpath("banned.toml")
        name = "banned.toml"
        try:
            text = resource.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogueError(f"{name}: cannot read: {exc}") from None
    else:
        known = known or packaged_categories()
        file = Path(path)
        name = file.name
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogueError(f"{file}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{name}: invalid TOML: {exc}") from None
    return _parse(data, name, require_entries=require_entries, known=known)


def load_shop_catalogue(shop_dir: str | Path | None) -> Catalogue:
    """Return the packaged catalogue plus the shop's own ``banned.toml`` in ``shop_dir`` (KEFU_SHOP_DIR).

    The shop file has the same schema and is validated the same way (it may hold only [[allow]]); its
    entries and allowed phrases are added to the packaged ones. No ``shop_dir``, or no ``banned.toml``
    in it: the packaged catalogue. An entry id the package already uses is an error naming the file.

    >>> len(load_shop_catalogue(None).entries) == len(load_catalogue().entries)
    True
    """
    package = load_catalogue()
    if shop_dir is None:
        return package
    folder = Path(shop_dir)
    if not folder.is_dir():
        raise CatalogueError(f"{folder}: KEFU_SHOP_DIR is not a folder")
    path = folder / "banned.toml"
    if not path.exists():
        return package
    shop = load_catalogue(path, require_entries=False)
    known = {entry.id for entry in package.entries}
    for entry in shop.entries:
        if entry.id in known:
            message = "already used by the packaged catalogue"
            raise CatalogueError(f"{path}: entry {entry.id!r}: field 'id': {message}")
    return Catalogue(
        entries=package.entries + shop.entries,
        allow=package.allow + shop.allow,
        path=str(path),
        categories=shop.categories,
    )


@functools.cache
def packaged_categories() -> tuple[Category, ...]:
    """Return the categories of the packaged ``banned.toml`` (read once)."""
    text = resources.files("guards").joinpath("banned.toml").read_text(encoding="utf-8")
    return _categories(tomllib.loads(text), "banned.toml", ())


# The packaged categories (banned.toml [[category]]): the eight of 服务忌语 and 不可以说. Another
# catalogue file (a shop's own banned.toml, `kefu check --catalogue`) may add its own to them; concept
# classes (concepts.toml) enforce packaged ones.
CATEGORIES: tuple[str, ...] = tuple(category.name for category in packaged_categories())
