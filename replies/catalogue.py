"""The documented reply scripts: load ``scripts.toml``, validate it, fill placeholders.

Every entry is checked at load (pydantic): a missing required key, an unknown field, an unknown
placeholder or a malformed ``{…}`` raises :class:`ScriptError` naming the file, the entry and the field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from string import Formatter
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

__all__ = [
    "DEFAULT_SCRIPTS",
    "PLACEHOLDERS",
    "REQUIRED_SCRIPTS",
    "MissingValue",
    "Script",
    "ScriptCatalogue",
    "ScriptError",
    "default_scripts",
    "load_scripts",
    "load_shop_scripts",
    "render",
    "script_for",
    "use_scripts",
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


class _Override(BaseModel):
    """A shop's override of one documented script: its text and/or some variants, and where they come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str | None = None
    source: str | None = None  # required with text
    variants: dict[str, _Variant] = {}

    @model_validator(mode="after")
    def _text_has_source(self) -> _Override:
        if self.text is not None and self.source is None:
            raise ValueError("source: required with text (where the shop's wording comes from)")
        return self

    @field_validator("text", "source")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value


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


# Placeholders an override may leave out: the shop may write its own name.
OPTIONAL_IN_OVERRIDE = frozenset({"shop"})
# What a placeholder stands for when an override is checked by the guard.
_SAMPLE_VALUES = {
    "shop": "本店",
    "agent_no": "007",
    "ticket": "20261123-0001",
    "hours": "每天 08:00-12:00",
    "reopen_at": "明天 08:00",
    "guess": "发货",
}


def _override_text(path: Path, key: str, where: str, text: str, documented: str) -> str:
    """Return ``text`` after checking its placeholders against the documented ``documented``."""
    names = _check_text(path, key, where, text)
    wanted = set(_placeholders(documented))
    dropped = sorted(wanted - names - OPTIONAL_IN_OVERRIDE)
    if dropped:
        raise ScriptError(
            f"{path}: [{key}] {where}: drops the placeholder {{{dropped[0]}}} the documented script needs"
        )
    extra = sorted(names - wanted)
    if extra:
        raise ScriptError(
            f"{path}: [{key}] {where}: placeholder {{{extra[0]}}} is not in the documented script "
            f"(it has: {', '.join('{' + n + '}' for n in sorted(wanted)) or 'none'})"
        )
    return text


def load_shop_scripts(
    shop_dir: str | Path | None,
    refuse: Callable[[str], str | None] | None = None,
    base: ScriptCatalogue | None = None,
) -> ScriptCatalogue:
    """Return the packaged scripts with the overrides of ``shop_dir/scripts.toml`` (KEFU_SHOP_DIR) applied.

    An override names a documented key (``[greeting]``, ``[greeting.variants.festival]``) with ``text`` and
    ``source``; it must keep every placeholder of the documented text but ``{shop}`` and add none.
    ``refuse(text)`` (the outbound guard) returns why a text may not be sent, or None; each override is
    checked with its placeholders filled with sample values. Any defect raises :class:`ScriptError`
    naming the file, the entry and the field. No folder or no file: the packaged catalogue.
    """
    base = base or _packaged()
    if shop_dir is None:
        return base
    path = Path(shop_dir) / "scripts.toml"
    if not path.exists():
        return base
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path}: cannot read scripts: {exc}") from None
    scripts = {script.key: script for script in base}
    for key, body in raw.items():
        if key not in scripts:
            raise ScriptError(f"{path}: [{key}] not a documented script key (see replies/scripts.toml)")
        if not isinstance(body, dict):
            raise ScriptError(f"{path}: [{key}] must be a table with text and source")
        try:
            entry = _Override.model_validate(body)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = ".".join(str(p) for p in error["loc"]) or "entry"
            raise ScriptError(f"{path}: [{key}] {loc}: {error['msg']}") from None
        documented = scripts[key]
        texts: list[tuple[str, str]] = []
        text = documented.text
        if entry.text is not None:
            text = _override_text(path, key, "text", entry.text, documented.text)
            texts.append(("text", text))
        variants = dict(documented.variants)
        variant_sources = dict(documented.variant_sources)
        for name, variant in entry.variants.items():
            if name not in variants:
                raise ScriptError(f"{path}: [{key}] variants.{name}: not a documented variant of {key!r}")
            where = f"variants.{name}.text"
            variants[name] = _override_text(path, key, where, variant.text, documented.variants[name])
            variant_sources[name] = variant.source
            texts.append((where, variants[name]))
        if refuse is not None:
            for where, candidate in texts:
                filled = candidate.format_map({n: _SAMPLE_VALUES[n] for n in _placeholders(candidate)})
                reason = refuse(filled)
                if reason:
                    raise ScriptError(f"{path}: [{key}] {where}: the outbound guard refuses it: {reason}")
        scripts[key] = Script(
            key=key,
            text=text,
            variants=MappingProxyType(variants),
            placeholders=frozenset(_placeholders(text)).union(*(_placeholders(v) for v in variants.values())),
            source=entry.source if entry.text is not None else documented.source,
            variant_sources=MappingProxyType(variant_sources),
        )
    return ScriptCatalogue(scripts, path)


@lru_cache(maxsize=1)
def _packaged() -> ScriptCatalogue:
    return load_scripts()


_installed: ScriptCatalogue | None = None


def use_scripts(catalogue: ScriptCatalogue | None) -> ScriptCatalogue:
    """Make ``catalogue`` (e.g. from :func:`load_shop_scripts`) the one :func:`render` uses; return it.

    None goes back to the packaged scripts. Called at start-up and on a reload (one reference swap).
    """
    global _installed
    _installed = catalogue
    return default_scripts()


def default_scripts() -> ScriptCatalogue:
    """Return the scripts in use: the shop's overrides installed by :func:`use_scripts`, else the packaged."""
    return _installed if _installed is not None else _packaged()


def _default() -> ScriptCatalogue:
    return default_scripts()


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
