"""Every message in the reader's language: zh-CN by default, English on request, the error
``code`` the same in both; and no error code lacks either language in the catalogues."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import string
from pathlib import Path

import httpx
import pytest

from shared import i18n
from shared.errors import DomainError

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "marketplace", "dealer_portal", "autofin", "pricing")


def _import_everything() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" not in module.name:
                importlib.import_module(module.name)


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _codes_and_variants_in_source() -> set[str]:
    """Catalogue keys the code names literally: ``code="…"`` and ``variant="…"`` arguments,
    pricing's ``reject("…")`` codes, the codes ``unavailable()`` and the 503s choose, and the
    ``code.variant`` pairs of each ``raise X(variant=…)``."""
    keys: set[str] = set()
    classes = {cls.__name__: cls.code for cls in [DomainError, *_subclasses(DomainError)]}
    for name in PACKAGES:
        for path in (ROOT / name).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                callee = node.func.attr if isinstance(node.func, ast.Attribute) else None
                callee = node.func.id if isinstance(node.func, ast.Name) else callee
                literal = {
                    kw.arg: kw.value.value
                    for kw in node.keywords
                    if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
                }
                if "code" in literal:
                    keys.add(literal["code"])
                if "variant" in literal and callee in classes:
                    keys.add(f"{literal.get('code', classes[callee])}.{literal['variant']}")
                position = {"reject": 0, "send_unavailable": 1}.get(callee or "")
                if position is not None and len(node.args) > position:
                    code = node.args[position]
                    if isinstance(code, ast.Constant) and isinstance(code.value, str):
                        keys.add(code.value)
    return keys


def _placeholders(template: str) -> set[str]:
    return {
        name.removesuffix("_en") for _, name, _, _ in string.Formatter().parse(template) if name
    }


def test_every_error_code_has_a_chinese_and_an_english_message() -> None:
    _import_everything()
    codes = {cls.code for cls in [DomainError, *_subclasses(DomainError)]}
    wanted = codes | _codes_and_variants_in_source()
    for locale in i18n.SUPPORTED_LOCALES:
        have = i18n.messages("errors", locale)
        missing = sorted(key for key in wanted if key not in have)
        assert not missing, f"{locale} lacks {missing}"


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_both_languages_translate_the_same_keys_with_the_same_placeholders(domain: str) -> None:
    chinese, english = (i18n.messages(domain, locale) for locale in ("zh_CN", "en"))
    assert chinese.keys() == english.keys()
    for key in chinese:
        # Chinese may leave a figure out (a regex pattern, say), never name one English lacks.
        assert _placeholders(chinese[key]) <= _placeholders(english[key]), key
    # A translation is a translation: no Chinese entry may just repeat the English.
    untranslated = [
        k for k in chinese if chinese[k] == english[k] and any(c.isalpha() for c in english[k])
    ]
    assert len(untranslated) <= len(chinese) // 20, untranslated


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "zh_CN"),
        ("", "zh_CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("zh-TW", "zh_CN"),
        ("fr-FR,en;q=0.5", "en"),
        ("fr", "zh_CN"),
        ("en;q=0.2,zh;q=0.8", "zh_CN"),
        ("*", "zh_CN"),
        ("en;q=0", "zh_CN"),
    ],
)
def test_the_language_follows_accept_language_with_chinese_by_default(
    header: str | None, locale: str
) -> None:
    assert i18n.negotiate(header) == locale


async def test_each_request_is_answered_in_its_own_language_however_many_headers_came_before() -> (
    None
):
    from starlette.responses import PlainTextResponse
    from starlette.types import Receive, Scope, Send

    from shared.web.locale import LocaleMiddleware

    async def current_locale(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(i18n.current_locale.get())(scope, receive, send)

    transport = httpx.ASGITransport(app=LocaleMiddleware(current_locale))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        # More distinct headers than the middleware remembers, the two known ones in between.
        for n in range(600):
            header, locale, tag = (
                ("en-US,en;q=0.9", "en", "en")
                if n % 3 == 0
                else ("zh-CN", "zh_CN", "zh-CN")
                if n % 3 == 1
                else (f"x-{n}", "zh_CN", "zh-CN")
            )
            response = await client.get("/", headers={"accept-language": header})
            assert (response.text, response.headers["content-language"]) == (locale, tag)


def test_money_and_dates_are_written_as_the_reader_writes_them() -> None:
    from datetime import date

    assert i18n.format_money(15_000_000, "zh_CN") == "¥15万"
    assert i18n.format_money(37_090_000, "zh_CN") == "¥37.09万"
    assert i18n.format_money(1_452_300, "zh_CN") == "¥14,523.00"
    assert i18n.format_money(37_090_001, "zh_CN") == "¥370,900.01"
    assert i18n.format_money(15_000_000, "en") == "CN¥150,000.00"
    assert i18n.format_day(date(2027, 1, 15), "zh_CN") == "2027年1月15日"
    assert i18n.format_day(date(2027, 1, 15), "en") == "January 15, 2027"


async def test_an_error_answers_in_chinese_by_default_and_in_english_on_request(
    client: httpx.AsyncClient,
) -> None:
    chinese = await client.get("/v1/buyer/loans")
    assert chinese.status_code == 401
    assert chinese.json()["error"] == {
        "code": "not_authenticated",
        "message": "请登录或提供 API 密钥。",
    }
    assert chinese.headers["content-language"] == "zh-CN"
    english = await client.get("/v1/buyer/loans", headers={"Accept-Language": "en-GB"})
    assert english.json()["error"] == {
        "code": "not_authenticated",
        "message": "Log in or send an API key.",
    }
    assert english.headers["content-language"] == "en"


async def test_validation_errors_are_translated_field_by_field(client: httpx.AsyncClient) -> None:
    body = {
        "email": "not-an-email",
        "password": "short",
        "full_name": "张三",
        "phone": "123",
        "sms_code": "123456",
    }
    chinese = (await client.post("/v1/auth/register", json=body)).json()["error"]
    assert chinese["code"] == "validation_error"
    messages = {f["field"]: f["message"] for f in chinese["fields"]}
    assert messages == {
        "email": "不是有效的邮箱地址",
        "password": "至少 8 个字符",
        "phone": "不是有效的中国大陆手机号（以 1 开头的 11 位数字）",
    }
    assert chinese["message"].startswith("请求无效：")
    english = await client.post("/v1/auth/register", json=body, headers={"Accept-Language": "en"})
    fields = {f["field"]: f["message"] for f in english.json()["error"]["fields"]}
    assert fields["password"] == "String should have at least 8 characters"
    assert english.json()["error"]["code"] == "validation_error"


async def test_an_unknown_route_and_malformed_json_answer_in_the_readers_language(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.json()["error"] == {"code": "not_found", "message": "没有这个资源。"}
    broken = await client.post(
        "/v1/auth/register",
        content=b"{",
        headers={"Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert broken.json()["error"] == {
        "code": "malformed_json",
        "message": "The request body is not valid JSON.",
    }


async def test_an_input_pricing_refuses_answers_in_the_readers_language(
    client: httpx.AsyncClient,
) -> None:
    """The calculator's fee no smaller than the principal reaches pricing, whose refusal is
    mapped once (``marketplace.refusals.invalid_input``) for every route that calls pricing."""
    body = {"principal": 1_000_000, "annual_rate": "0.05", "term_months": 12}
    body["upfront_fee"] = 1_000_000
    chinese = await client.post("/v1/calculator", json=body)
    assert chinese.status_code == 422
    assert chinese.json()["error"] == {
        "code": "invalid_input",
        "message": "前置费用必须是不小于 0 且小于本金的整数（单位：分）。",
        "field": "upfront_fee",
    }
    english = await client.post("/v1/calculator", json=body, headers={"Accept-Language": "en"})
    assert english.json()["error"] == {
        "code": "invalid_input",
        "message": "upfront_fee must be whole fen, at least 0 and less than the principal",
        "field": "upfront_fee",
    }
