"""The reader's language for each request: ``Accept-Language``, zh-CN when it names none we have."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import i18n
from shared.web.headers import request_header

# Distinct Accept-Language headers negotiated so far; forgotten all at once past this many, so
# that callers sending arbitrary headers cannot grow it without bound.
_REMEMBERED_HEADERS = 512


class LocaleMiddleware:
    """Set ``i18n.current_locale`` for the request and answer with ``Content-Language``; the
    answer varies with ``Accept-Language``, which caches are told."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Accept-Language → (locale, Content-Language): browsers send a handful of headers.
        self._negotiated: dict[bytes, tuple[str, bytes]] = {}

    def _negotiate(self, header: bytes) -> tuple[str, bytes]:
        negotiated = self._negotiated.get(header)
        if negotiated is None:
            locale = i18n.negotiate(header.decode("latin-1"))
            negotiated = (locale, i18n.html_lang(locale).encode())
            if len(self._negotiated) >= _REMEMBERED_HEADERS:
                self._negotiated.clear()
            self._negotiated[header] = negotiated
        return negotiated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale, content_language = self._negotiate(request_header(scope, b"accept-language") or b"")
        token = i18n.current_locale.set(locale)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-language", content_language))
                headers.append((b"vary", b"Accept-Language"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            i18n.current_locale.reset(token)
