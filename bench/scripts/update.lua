-- PUT /api/users/{id} without If-Match for a random seeded user: last writer wins.
package.path = os.getenv("BENCH_SCRIPTS") .. "/?.lua;" .. package.path
local bench = require("common")

setup = bench.setup
init = bench.init
request = bench.update_user
