"""Languages: Chinese first (zh-CN), English one click away.

Every message a person reads comes from a Babel message catalogue in ``shared/locales/`` —
``errors.po`` (API error messages, keyed by error ``code`` or ``code.variant``), ``validation.po``
(request validation, keyed by pydantic's error type or our validators' English text) and
``pages.po`` (the web pages). The ``.po`` files are read with Babel's own reader when first
needed, so a clean clone or ``pip install -e .`` works with no compile step. Placeholders are
``{name}``; money and dates inside messages are formatted for the reader's locale by Babel
(¥15万, 2027年1月15日).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping
from contextvars import ContextVar
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Final

from babel.core import Locale, negotiate_locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_compact_currency, format_currency

LOCALES_DIR: Final = Path(__file__).with_name("locales")
DEFAULT_LOCALE: Final = "zh_CN"
SUPPORTED_LOCALES: Final = ("zh_CN", "en")
DOMAINS: Final = ("errors", "validation", "pages", "notices")
# The locale of the request being served (set by ``shared.web.locale.LocaleMiddleware``).
current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)
_LANGUAGE_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?"
)


def negotiate(accept_language: str | None) -> str:
    """The supported locale an ``Accept-Language`` header asks for; zh-CN when it names none.

    ``en-US,en;q=0.9`` → ``en``; ``zh-TW`` → ``zh_CN`` (the Chinese we have); ``fr`` → zh-CN.
    """
    preferred: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        match = _LANGUAGE_RANGE.match(part)
        if not match or match.group(1) == "*":
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if quality > 0:
            preferred.append((-quality, position, match.group(1).replace("-", "_")))
    wanted = [tag for _, _, tag in sorted(preferred)]
    for tag in wanted:
        found = negotiate_locale([tag], SUPPORTED_LOCALES, aliases={"zh": "zh_CN"})
        if found is None and "_" in tag:
            found = negotiate_locale(
                [tag.split("_")[0]], SUPPORTED_LOCALES, aliases={"zh": "zh_CN"}
            )
        if found is not None:
            return found
    return DEFAULT_LOCALE


def html_lang(locale: str) -> str:
    """The BCP 47 tag for ``<html lang>`` and ``Content-Language``: ``zh_CN`` → ``zh-CN``."""
    return locale.replace("_", "-")


@cache
def catalog(domain: str, locale: str) -> Catalog:
    """The catalogue of one domain in one locale, read from its ``.po`` file once."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as po_file:
        return read_po(po_file, locale=locale, domain=domain)


def messages(domain: str, locale: str) -> dict[str, str]:
    """Every translated message of a domain, by its key (untranslated entries left out)."""
    return {
        str(message.id): str(message.string)
        for message in catalog(domain, locale)
        if message.id and message.string
    }


@cache
def translations(domain: str, locale: str) -> Mapping[str, str]:
    """``messages``, read once per process."""
    return messages(domain, locale)


def gettext(domain: str, key: str, locale: str) -> str | None:
    """The message for ``key`` in that locale, or None when the catalogue lacks it."""
    return translations(domain, locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE).get(key)


def error_text(key: str, fallback: str, locale: str | None = None, **params: object) -> str:
    """An ``errors`` catalogue message for the current request's locale, else ``fallback``."""
    chosen = locale or current_locale.get()
    template = gettext("errors", key, chosen)
    return render(template if template is not None else fallback, params, chosen)


class _Lenient(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, params: Mapping[str, object], locale: str) -> str:
    """Fill ``{name}`` placeholders, formatting money (``*_fen`` ints) and dates for ``locale``;
    a placeholder with no value is left as it is rather than failing the answer."""
    values = _Lenient({name: format_value(name, value, locale) for name, value in params.items()})
    try:
        return string.Formatter().vformat(template, (), values)
    except (ValueError, IndexError):
        return template


def format_value(name: str, value: object, locale: str) -> str:
    if isinstance(value, bool):
        return str(value)
    if name.endswith("_fen") and isinstance(value, int):
        return format_money(value, locale)
    if isinstance(value, dt.date):
        return format_day(value, locale)
    if isinstance(value, Decimal) and name.endswith("rate"):
        return f"{value * 100:.2f}%"
    return str(value)


def format_money(fen: int, locale: str) -> str:
    """Money for a reader: ``¥15万`` / ``¥4,646.00`` in Chinese, ``CN¥150,000.00`` in English.

    Chinese readers count large sums in 万 (ten thousand) and 亿: ¥10,000 and more in whole
    hundreds of yuan is written so (¥37.09万) — exactly, never rounded; anything else keeps its fen.
    """
    yuan = Decimal(fen) / 100
    if locale.startswith("zh") and fen >= 1_000_000 and fen % 10_000 == 0:
        return format_compact_currency(yuan, "CNY", locale=_babel_locale(locale), fraction_digits=2)
    return format_currency(yuan, "CNY", locale=_babel_locale(locale))


def format_day(day: dt.date, locale: str) -> str:
    """A date as a reader writes it: 2027年1月15日, or January 15, 2027."""
    return format_date(day, "long", locale=_babel_locale(locale))


@cache
def _babel_locale(locale: str) -> Locale:
    """Babel's locale data for ``locale``, parsed once (Babel parses a name on every call:
    a third of rendering a book's 70,000 reminders)."""
    return Locale.parse(locale)
