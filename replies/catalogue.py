"""The documented reply scripts: load ``scripts.toml``, validate it, fill placeholders.

Every entry is checked at load (pydantic): a missing required key, an unknown field, an unknown
placeholder or a malformed ``{…}`` raises :class:`ScriptError` naming the file, the entry and the field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from string import Formatter
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

__all__ = [
    "DEFAULT_SCRIPTS",
    "PLACEHOLDERS",
    "REQUIRED_SCRIPTS",
    "MissingValue",
    "Script",
    "ScriptCatalogue",
    "ScriptError",
    "load_scripts",
    "render",
    "script_for",
]

DEFAULT_SCRIPTS = Path(__file__).with_name("scripts.toml")
PLACEHOLDERS = frozenset({"shop", "agent_no", "ticket", "hours", "reopen_at", "guess"})

# Every key the bot relies on, with the variants it asks for by name.
REQUIRED_SCRIPTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "greeting": frozenset({"new_year", "festival"}),
        "ask_more": frozenset(),
        "closing": frozenset({"new_year", "festival"}),
        "off_hours_lunch": frozenset(),
        "off_hours_closed": frozenset(),
        "busy": frozenset(),
        "service_hours": frozenset(),
        "unclear": frozenset({"guess"}),
        "no_content": frozenset(),
        "complaint_receipt": frozenset(),
        "complaint_followup": frozenset({"overdue"}),
        "complaint_about_staff": frozenset(),
        "suggestion": frozenset(),
        "security": frozenset(),
        "how_to": frozenset(),
        "site_problem": frozenset(),
        "out_of_scope": frozenset(),
        "thanks": frozenset(),
        "praise": frozenset(),
        "apology": frozenset(),
        "agent_identity": frozenset({"shop"}),
        "human_request_1": frozenset(),
        "human_request_2": frozenset(),
        "human_handover": frozenset(),
        "uncivil_1": frozenset(),
        "uncivil_2": frozenset(),
        "uncivil_3": frozenset(),
        "cannot_answer": frozenset(),
        "waiting": frozenset(),
        "thanks_for_waiting": frozenset(),
    }
)


class ScriptError(ValueError):
    """The scripts file is malformed; the message names the file, the entry and the field."""


class MissingValue(KeyError):
    """A placeholder of the script has no value (never send a literal ``{shop}``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "missing value"


@dataclass(frozen=True, slots=True)
class Script:
    """One documented script: default text, named variants, the placeholders used and the sources."""

    key: str
    text: str
    variants: Mapping[str, str]
    placeholders: frozenset[str]
    source: str
    variant_sources: Mapping[str, str] = field(default_factory=dict)

    def render(self, variant: str | None = None, **values: object) -> str:
        """Return the script (or ``variant``) with its placeholders filled from ``values``.

        Extra values are ignored; a missing one raises :class:`MissingValue`, an unknown variant ``KeyError``.
        An empty value takes the comma after it along (a shop with no name set), so the text still reads:
        >>> Script("x", "您好，{shop}", {}, frozenset({"shop"}), "doc").render(shop="本店")
        '您好，本店'
        >>> Script("x", "您好，{shop}，很高兴为您服务！", {}, frozenset({"shop"}), "doc").render(shop="")
        '您好，很高兴为您服务！'
        """
        if variant is None:
            text = self.text
        else:
            try:
                text = self.variants[variant]
            except KeyError:
                raise KeyError(f"script {self.key!r} has no variant {variant!r}") from None
        missing = sorted(name for name in _placeholders(text) if values.get(name) is None)
        if missing:
            where = self.key if variant is None else f"{self.key}[{variant}]"
            raise MissingValue(
                f"script {where!r} needs a value for {', '.join('{' + m + '}' for m in missing)}"
            )
        for name in {name for name in _placeholders(text) if values[name] == ""}:
            text = text.replace(f"{{{name}}}，", "")
        return text.format_map({name: values[name] for name in _placeholders(text)})


class ScriptCatalogue:
    """The loaded scripts, by key."""

    def __init__(self, scripts: Mapping[str, Script], path: Path) -> None:
        self._scripts = dict(scripts)
        self.path = path

    def keys(self) -> tuple[str, ...]:
        """Return the script keys in file order."""
        return tuple(self._scripts)

    def get(self, key: str) -> Script:
        """Return the script for ``key``; ``KeyError`` when there is none."""
        try:
            return self._scripts[key]
        except KeyError:
            raise KeyError(f"no script {key!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._scripts

    def __iter__(self):
        return iter(self._scripts.values())

    def __len__(self) -> int:
        return len(self._scripts)

    def render(self, key: str, variant: str | None = None, **values: object) -> str:
        """Return script ``key`` (or its ``variant``) filled with ``values``; see :meth:`Script.render`."""
        return self.get(key).render(variant, **values)


class _Variant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    source: str

    @field_validator("text", "source")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class _Entry(_Variant):
    variants: dict[str, _Variant] = {}


def _placeholders(text: str) -> list[str]:
    """Return the placeholder names of ``text``; ``ValueError`` for anything but plain ``{name}``."""
    names = []
    for _, name, spec, conversion in Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"malformed placeholder {{{name}{'!' + conversion if conversion else ''}}}")
        names.append(name)
    return names


def _check_text(path: Path, key: str, where: str, text: str) -> set[str]:
    try:
        names = _placeholders(text)
    except ValueError as exc:
        raise ScriptError(f"{path.name}: [{key}] {where}: {exc}") from None
    unknown = sorted(set(names) - PLACEHOLDERS)
    if unknown:
        raise ScriptError(
            f"{path.name}: [{key}] {where}: unknown placeholder {{{unknown[0]}}} "
            f"(allowed: {', '.join(sorted(PLACEHOLDERS))})"
        )
    return set(names)


def load_scripts(path: str | Path | None = None) -> ScriptCatalogue:
    """Return the validated catalogue from ``path`` (default: the packaged ``scripts.toml``).

    Raises :class:`ScriptError` naming the file, the entry and the field for any defect.
    """
    path = Path(path) if path is not None else DEFAULT_SCRIPTS
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path.name}: cannot read scripts: {exc}") from None
    scripts: dict[str, Script] = {}
    for key, body in raw.items():
        if not isinstance(body, dict):
            raise ScriptError(f"{path.name}: [{key}] must be a table with text and source")
        try:
            entry = _Entry.model_validate(body)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = ".".join(str(p) for p in error["loc"]) or "entry"
            raise ScriptError(f"{path.name}: [{key}] {loc}: {error['msg']}") from None
        names = _check_text(path, key, "text", entry.text)
        for name, variant in entry.variants.items():
            names |= _check_text(path, key, f"variants.{name}.text", variant.text)
        scripts[key] = Script(
            key=key,
            text=entry.text,
            variants=MappingProxyType({n: v.text for n, v in entry.variants.items()}),
            placeholders=frozenset(names),
            source=entry.source,
            variant_sources=MappingProxyType({n: v.source for n, v in entry.variants.items()}),
        )
    for key, variants in REQUIRED_SCRIPTS.items():
        if key not in scripts:
            raise ScriptError(f"{path.name}: [{key}] missing: the bot needs this script")
        absent = sorted(variants - set(scripts[key].variants))
        if absent:
            raise ScriptError(
                f"{path.name}: [{key}] variants.{absent[0]}: missing: the bot needs this variant"
            )
    return ScriptCatalogue(scripts, path)


@lru_cache(maxsize=1)
def _default() -> ScriptCatalogue:
    return load_scripts()


def render(key: str, variant: str | None = None, **values: object) -> str:
    """Return the packaged script ``key`` (optionally ``variant``) with placeholders filled.

    ``KeyError`` for an unknown key or variant, :class:`MissingValue` when a placeholder has no value.
    >>> render("greeting", shop="小米粒旗舰店")
    '您好，小米粒旗舰店，很高兴为您服务！'
    """
    return _default().render(key, variant, **values)


def script_for(intent_key: str) -> str | None:
    """Return the script key answering ``intent_key`` in the plain case (complaint → complaint_receipt).

    Read from the one intent → script table, ``policy.toml``; None for an intent that gets no reply
    (``other``); ``KeyError`` for an unknown intent.
    """
    from replies.policy import default_policy

    try:
        return default_policy().script_for(intent_key)
    except KeyError:
        raise KeyError(f"unknown intent {intent_key!r}") from None
