-- Nine reads by id for every update, at random.
package.path = os.getenv("BENCH_SCRIPTS") .. "/?.lua;" .. package.path
local bench = require("common")

setup = bench.setup
init = bench.init

request = function()
  if math.random() < 0.9 then
    return bench.get_user()
  end
  return bench.update_user()
end
