-- GET /api/users/{id} for a random seeded user.
package.path = os.getenv("BENCH_SCRIPTS") .. "/?.lua;" .. package.path
local bench = require("common")

setup = bench.setup
init = bench.init
request = bench.get_user
