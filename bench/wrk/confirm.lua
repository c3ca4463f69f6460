-- POST /v1/dealer/deals/{id}/confirm: one per quoted deal, each on its own approval.
-- Lines from bench/http.py (BENCH_WRK_LINES); MODE "once": see _lines.lua.
MODE = "once"
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "_lines.lua")
