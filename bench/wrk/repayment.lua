-- POST /v1/buyer/loans/{id}/payments: one instalment per loan, saved card, distinct Idempotency-Keys.
-- Lines from bench/http.py (BENCH_WRK_LINES); MODE "once": see _lines.lua.
MODE = "once"
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "_lines.lua")
