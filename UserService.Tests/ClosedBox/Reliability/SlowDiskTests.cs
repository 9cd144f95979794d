using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using AppHost.Cache;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Reliability;

/// <summary>
/// redis-server, with the append-only flags of a single node and of a cluster's node, killed while its disk is
/// slow to flush: every write it answered is in its file. With <c>appendfsync everysec</c> it was not: while
/// a background flush is slow, Redis holds new writes back in memory for up to 2 s and answers them anyway,
/// which is how a failover test once lost 3 of 637 acknowledged users. Runs alone, with the other crashes.
/// </summary>
[Collection(DurabilityTests.Name)]
public sealed class SlowDiskTests
{
    private const int Writers = 16;

    /// <summary>Writes answered during the flush before the kill: each a write everysec would have held back.</summary>
    private const int Answered = 50;

    /// <summary>How long each flush to disk takes: most of the second between everysec's flushes.</summary>
    private const int FlushMicroseconds = 900_000;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>How long the writes run while the test watches for a flush: everysec starts one within a second.</summary>
    private static readonly TimeSpan FlushWindow = TimeSpan.FromSeconds(3);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>Each way the engines keep redis-server's files, by name.</summary>
    private static readonly Dictionary<string, Func<string, string[]>> Durabilities = new()
    {
        ["single node"] = EngineFlags.RedisServerDurability,
        ["cluster node"] = EngineFlags.RedisClusterNodeDurability,
    };

    public static TheoryData<string> Nodes => [.. Durabilities.Keys];

    [Theory]
    [MemberData(nameof(Nodes))]
    public async Task EveryWriteRedisAnsweredSurvivesAKillWhileItsDiskIsSlowToFlush(string node)
    {
        var durability = Durabilities[node];
        Engines.RequireInstalled(Engines.RedisServer);
        Engines.RequireProgram("strace", "strace");
        var directory = Directory.CreateTempSubdirectory("slow-disk-").FullName;
        try
        {
            var port = FreePort.Next();
            long answered;
            await using (var slow = StartSlowToFlush(port, durability(directory)))
            {
                await using var redis = await ConnectAsync(port, slow);
                var database = redis.GetDatabase();
                var counter = new Counter();
                using var stop = new CancellationTokenSource();
                var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(() => IncrementAsync(database, counter, stop.Token))).ToList();

                // Kill in the middle of a flush, once writes were answered during it: everysec would hold them
                // back. A store that flushes before it answers (always), or leaves it to the system (no), has
                // no such flush and is killed after the window.
                var flushing = await FlushInProgressWithinAsync(redis.GetServer(redis.GetEndPoints()[0]), FlushWindow);
                var before = counter.Highest;
                await Eventually.MatchAsync(_ => Task.FromResult(counter.Highest), highest => highest >= before + Answered, Timeout);
                Process.GetProcessById(TracedChild(slow.Process)).Kill();
                await slow.Process.WaitForExitAsync(Cancellation).WaitAsync(Timeout, Cancellation);
                await stop.CancelAsync();
                await Task.WhenAll(writers);
                answered = counter.Highest;
                Assert.True(answered >= before + Answered, $"Only {answered - before} increments were answered in the last moments before the kill.");
                TestContext.Current.SendDiagnosticMessage($"{answered} increments answered; a flush was {(flushing ? "" : "not ")}in progress at the kill.");
            }

            await using var restarted = StartRedisServer("redis-server", [], port, durability(directory));
            await using var again = await ConnectAsync(port, restarted);
            var kept = await Eventually.MatchAsync(_ => ReadCounterAsync(again.GetDatabase()), value => value >= answered, Timeout);
            Assert.True(kept >= answered, $"The store kept {kept} increments of the {answered} it answered.");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The highest counter value an answer carried: every increment up to it was answered.</summary>
    private sealed class Counter
    {
        private long highest;

        public long Highest => Interlocked.Read(ref highest);

        public void Saw(long value)
        {
            for (var seen = Highest; value > seen; seen = Highest)
            {
                if (Interlocked.CompareExchange(ref highest, value, seen) == seen)
                {
                    return;
                }
            }
        }
    }

    private static readonly RedisKey CounterKey = "slow-disk:counter";

    private static async Task IncrementAsync(IDatabase database, Counter counter, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                counter.Saw(await database.StringIncrementAsync(CounterKey));
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // The store is gone: nothing more is answered.
                return;
            }
        }
    }

    private static async Task<long> ReadCounterAsync(IDatabase database)
    {
        try
        {
            return (long?)await database.StringGetAsync(CounterKey) ?? 0;
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("LOADING", StringComparison.Ordinal))
        {
            return -1;
        }
    }

    /// <summary>Whether a background flush of the append-only file is pending within <paramref name="window"/>.</summary>
    private static async Task<bool> FlushInProgressWithinAsync(IServer server, TimeSpan window)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < window)
        {
            var persistence = await server.InfoRawAsync("persistence");
            if (persistence?.Contains("aof_pending_bio_fsync:1", StringComparison.Ordinal) == true)
            {
                return true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), Cancellation);
        }

        return false;
    }

    /// <summary>
    /// redis-server under strace, each fdatasync (its flush of the file) delayed by <see cref="FlushMicroseconds"/>: a disk
    /// that is slow to flush, without touching the machine's disk.
    /// </summary>
    private static StoreProcess StartSlowToFlush(int port, string[] durability) => StartRedisServer(
        "strace",
        ["-f", "--seccomp-bpf", "-o", "/dev/null", "-e", "trace=fdatasync",
         "-e", string.Create(CultureInfo.InvariantCulture, $"inject=fdatasync:delay_enter={FlushMicroseconds}"), "redis-server"],
        port,
        durability);

    private static StoreProcess StartRedisServer(string program, string[] prefix, int port, string[] durability)
    {
        var start = new ProcessStartInfo(program, [.. prefix, .. EngineFlags.Listen(port.ToString(CultureInfo.InvariantCulture)), .. durability, "--save", ""])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        process.ErrorDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new(process, output);
    }

    /// <summary>A store process the test started, with what it printed; disposing it kills it and what it started.</summary>
    private sealed record StoreProcess(Process Process, ConcurrentQueue<string> Output) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await ProcessControl.KillAsync(Process);
            Process.Dispose();
        }
    }

    /// <summary>The redis-server that strace started: killing strace would leave it running.</summary>
    private static int TracedChild(Process strace) => int.Parse(
        File.ReadAllText($"/proc/{strace.Id}/task/{strace.Id}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries)[0],
        CultureInfo.InvariantCulture);

    private static async Task<ConnectionMultiplexer> ConnectAsync(int port, StoreProcess store)
    {
        var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true,abortConnect=false");
        await Eventually.MatchAsync(_ => Task.FromResult(redis.IsConnected || store.Process.HasExited), done => done, Timeout);
        Assert.True(redis.IsConnected, (store.Process.HasExited ? $"The store exited with code {store.Process.ExitCode}:\n" : "The store did not answer:\n")
            + string.Join("\n", store.Output.TakeLast(20)));
        return redis;
    }
}
