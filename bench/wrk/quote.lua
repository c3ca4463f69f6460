-- POST /v1/dealer/deals: a car quoted on many buyers' approvals (quoting never locks an approval).
-- Lines from bench/http.py (BENCH_WRK_LINES); MODE "cycle": see _lines.lua.
MODE = "cycle"
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "_lines.lua")
