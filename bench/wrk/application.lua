-- POST /v1/buyer/applications: one per applicant (distinct accounts and national IDs).
-- Lines from bench/http.py (BENCH_WRK_LINES); MODE "once": see _lines.lua.
MODE = "once"
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "_lines.lua")
