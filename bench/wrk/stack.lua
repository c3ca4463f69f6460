-- GET /stack/{id}: the floor app, the same row through SQLAlchemy AsyncSession.
-- Lines from bench/http.py (BENCH_WRK_LINES); MODE "cycle": see _lines.lua.
MODE = "cycle"
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "_lines.lua")
