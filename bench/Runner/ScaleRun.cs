using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using StackExchange.Redis;
using UserService.Users.Store;

namespace Bench;

/// <summary>What starting a replica on a store of one size cost.</summary>
internal sealed record ScaleResult(
    int Users,
    TimeSpan Seeding,
    TimeSpan StartToReady,
    TimeSpan StartToRepaired,
    double CpuSecondsToRepaired,
    long PeakRssFirstMinute,
    LoadResult Quiet,
    LoadResult DuringRepair,
    long UsedMemory);

/// <summary>
/// The scale check (<c>--scale 10000,1000000</c>): for each store size, a fresh redis-server seeded straight
/// in the service's key layout, then a replica started on it, which repairs it once (a store it has no
/// record of is a new store run); then reads by id on that replica, quiet and while a second replica is
/// told to repair again.
/// </summary>
internal sealed class ScaleRun(Options options, Tokens tokens, string logDirectory)
{
    private static readonly TimeSpan FirstMinute = TimeSpan.FromSeconds(60);

    private readonly string token = tokens.Create();

    public async Task<ScaleResult> RunAsync(int users)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("userservice-bench-scale-").FullName;
        try
        {
            await using var store = await Store.StartAsync("redis-server", dataDirectory, cores: null, logDirectory);
            await using var redis = await ConnectionMultiplexer.ConnectAsync($"{store.ConnectionString},allowAdmin=true");
            var seeding = Stopwatch.StartNew();
            await SeedAsync(redis.GetDatabase(), users);
            seeding.Stop();
            Console.WriteLine($"[scale {users:N0}] seeded in {seeding.Elapsed.TotalSeconds:0.0} s");

            var started = Stopwatch.StartNew();
            await using var service = await EngineRun.StartServiceAsync(store, null, $"userservice-scale-{users}", tokens, options, logDirectory);
            var ready = started.Elapsed;
            var (repaired, cpu, peak) = await WatchUntilRepairedAsync(service.Process, redis.GetDatabase(), started);
            Console.WriteLine($"[scale {users:N0}] ready in {ready.TotalSeconds:0.0} s, repaired in {repaired.TotalSeconds:0.0} s, {cpu:0.0} CPU s, peak RSS {peak / 1048576.0:0} MiB");

            var target = new Uri($"http://127.0.0.1:{service.Port}/");
            await Wrk.RunAsync(Scenario.GetById.Script, target, options.Warmup, options.Connections, token, users);
            var quiet = await Wrk.RunAsync(Scenario.GetById.Script, target, options.Duration, options.Connections, token, users);
            var during = await DuringForcedRepairAsync(store, redis.GetDatabase(), target, users);
            var memory = await UsedMemoryAsync(redis, store.Port);
            Console.WriteLine($"[scale {users:N0}] reads by id p99 {quiet.P99Milliseconds:0.0} ms quiet, {during.P99Milliseconds:0.0} ms during a repair");

            return new ScaleResult(users, seeding.Elapsed, ready, repaired, cpu, peak, quiet, during, memory);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    /// <summary>Waits for the repair's record to say done, sampling the service's RSS, and goes on sampling for the first minute.</summary>
    private static async Task<(TimeSpan Repaired, double CpuSeconds, long PeakRss)> WatchUntilRepairedAsync(Process service, IDatabase database, Stopwatch started)
    {
        TimeSpan? repaired = null;
        double cpu = 0;
        long peak = 0;
        while (started.Elapsed < FirstMinute || repaired is null)
        {
            service.Refresh();
            peak = Math.Max(peak, service.WorkingSet64);
            if (repaired is null && (string?)await database.HashGetAsync(StoreLayout.Repair, "phase") == "Done")
            {
                repaired = started.Elapsed;
                cpu = service.TotalProcessorTime.TotalSeconds;
            }

            if (started.Elapsed > TimeSpan.FromMinutes(30))
            {
                throw new TimeoutException("The repair did not finish within 30 minutes; see the service's log.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        return (repaired.Value, cpu, peak);
    }

    /// <summary>Reads by id on the first replica while a second one, told to, repairs the whole store again.</summary>
    private async Task<LoadResult> DuringForcedRepairAsync(Store store, IDatabase database, Uri target, int users)
    {
        var scans = (long)await database.HashGetAsync(StoreLayout.Repair, "scans");
        await using var forcing = await EngineRun.StartServiceAsync(
            store, null, $"userservice-scale-{users}-forced", tokens, options with { ServiceSettings = new Dictionary<string, string>(options.ServiceSettings) { ["Store__Repair__Force"] = "true" } }, logDirectory);
        var result = await Wrk.RunAsync(Scenario.GetById.Script, target, options.Duration, options.Connections, token, users);
        if ((long)await database.HashGetAsync(StoreLayout.Repair, "scans") == scans)
        {
            throw new InvalidOperationException("The forced repair did not begin while reads were measured.");
        }

        return result;
    }

    /// <summary>
    /// <paramref name="users"/> users written straight into the layout, a thousand at a time, as the service
    /// would have written them through its creates.
    /// </summary>
    private static async Task SeedAsync(IDatabase database, int users)
    {
        const int Chunk = 1000;
        var now = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        var writes = new List<Task>();
        for (var first = 1; first <= users; first += Chunk)
        {
            var ids = Enumerable.Range(first, Math.Min(Chunk, users - first + 1));
            writes.Add(StoreLayout.LoadAsync(database, [.. ids.Select(id => ((long)id, $"seed{id}", $"seed{id}@example.com", (RedisValue)Document(id, now)))]));
            if (writes.Count >= 16)
            {
                await Task.WhenAll(writes);
                writes.Clear();
            }
        }

        writes.Add(database.StringSetAsync(StoreLayout.NextId, users));
        writes.Add(database.StringSetAsync(StoreLayout.Generation, 1));
        await Task.WhenAll(writes);
    }

    /// <summary>A stored document as the service writes one: the user without its id.</summary>
    private static string Document(int id, string now) =>
        $$"""{"username":"seed{{id}}","email":"seed{{id}}@example.com","displayName":null,"createdAt":"{{now}}","updatedAt":"{{now}}","version":1}""";

    private static async Task<long> UsedMemoryAsync(ConnectionMultiplexer redis, int port)
    {
        var info = await redis.GetServer(IPAddress.Loopback.ToString(), port).InfoAsync("memory");
        return long.Parse(info.SelectMany(section => section).First(pair => pair.Key == "used_memory").Value, CultureInfo.InvariantCulture);
    }

    public static string Markdown(IReadOnlyList<ScaleResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{Report.ScaleHeading}: one replica starting on a store of each size (redis-server)");
        text.AppendLine();
        text.AppendLine("The store is seeded straight in the service's key layout, with no repair record, so the replica's start is a store run's first: it repairs once. CPU is the service's, from its start to the repair's end. Reads by id follow, after a warm-up: quiet, then while a second replica repairs the whole store again (`Store__Repair__Force=true`).");
        text.AppendLine();
        text.AppendLine("| Users | Store memory | Seeding | Start to ready | Start to repaired | CPU s to repaired | Peak RSS, first minute | Read p99, quiet | Read p99, during a repair |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Users:N0} | {r.UsedMemory / 1048576.0:0} MiB | {r.Seeding.TotalSeconds:0.0} s | {r.StartToReady.TotalSeconds:0.0} s | {r.StartToRepaired.TotalSeconds:0.0} s | {r.CpuSecondsToRepaired:0.0} | {r.PeakRssFirstMinute / 1048576.0:0} MiB | {r.Quiet.P99Milliseconds:0.0} ms | {r.DuringRepair.P99Milliseconds:0.0} ms |");
        }

        return text.ToString();
    }
}
