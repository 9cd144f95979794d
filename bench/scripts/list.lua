-- GET /api/users?limit=50 from a random place in the seeded users.
package.path = os.getenv("BENCH_SCRIPTS") .. "/?.lua;" .. package.path
local bench = require("common")

setup = bench.setup
init = bench.init

request = function()
  local after = math.random(0, bench.users - 50)
  return wrk.format("GET", "/api/users?limit=50&after=" .. after, bench.headers)
end
