-- POST /api/users with a username and email no other request of any run uses.
package.path = os.getenv("BENCH_SCRIPTS") .. "/?.lua;" .. package.path
local bench = require("common")

setup = bench.setup
init = bench.init

request = function()
  bench.sent = bench.sent + 1
  local name = string.format("c%d-%d-%d", bench.run, thread_number, bench.sent)
  local body = string.format('{"username":"%s","email":"%s@example.com"}', name, name)
  return wrk.format("POST", "/api/users", bench.headers, body)
end
