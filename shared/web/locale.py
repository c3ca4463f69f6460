"""The reader's language for each request: ``Accept-Language``, zh-CN when it names none we have."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import i18n


class LocaleMiddleware:
    """Set ``i18n.current_locale`` for the request and answer with ``Content-Language``; the
    answer varies with ``Accept-Language``, which caches are told."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers", [])).get(b"accept-language", b"").decode("latin-1")
        locale = i18n.negotiate(header)
        token = i18n.current_locale.set(locale)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-language", i18n.html_lang(locale).encode()))
                headers.append((b"vary", b"Accept-Language"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            i18n.current_locale.reset(token)
