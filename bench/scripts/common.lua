-- What every scenario shares: the runner's bearer token and seeded user count, a number per wrk thread,
-- and a random seed per thread so that threads do not ask for the same ids in the same order.
local bench = {}

bench.users = tonumber(os.getenv("BENCH_USERS") or "10000")
bench.headers = {
  ["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or ""),
  ["Content-Type"] = "application/json",
}

local threads = 0

function bench.setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function bench.init()
  math.randomseed(os.time() * 1000 + thread_number)
  bench.run = math.random(100000, 999999)
  bench.sent = 0
end

function bench.get_user()
  return wrk.format("GET", "/api/users/" .. math.random(1, bench.users), bench.headers)
end

-- Replaces a seeded user's fields. Each user is renamed to a name only it ever takes, so no update conflicts.
function bench.update_user()
  local id = math.random(1, bench.users)
  bench.sent = bench.sent + 1
  local body = string.format('{"username":"user%d","email":"user%d@example.com","displayName":"Round %d"}', id, id, bench.sent)
  return wrk.format("PUT", "/api/users/" .. id, bench.headers, body)
end

return bench
