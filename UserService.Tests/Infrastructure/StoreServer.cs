using System.Diagnostics;
using AppHost.Cache;
using StackExchange.Redis;

[assembly: AssemblyFixture(typeof(UserService.Tests.Infrastructure.GarnetStoreServer))]
[assembly: AssemblyFixture(typeof(UserService.Tests.Infrastructure.RedisStoreServer))]

namespace UserService.Tests.Infrastructure;

/// <summary>
/// A store server for the in-process tests, one per engine for the whole run, on a free loopback port and
/// without persistence, which these tests do not need. Each test class takes a logical database of its own, so that classes never see
/// each other's users.
/// </summary>
public abstract class StoreServer(string engine) : IAsyncLifetime
{
    protected const int Databases = 128;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private Process? process;
    private int lastDatabase;
    private int port;

    public string Engine { get; } = engine;

    protected abstract ProcessStartInfo StartInfo(int port);

    public async ValueTask InitializeAsync()
    {
        if (!Engines.IsInstalled(Engine))
        {
            return;
        }

        port = FreePort.Next();
        var startInfo = StartInfo(port);
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        process = Process.Start(startInfo)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(StartTimeout);
        while (true)
        {
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync(ConnectionString(0));
                await probe.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException) when (!deadline.IsCancellationRequested && !process.HasExited)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
            }
        }
    }

    /// <summary>A connection string to a logical database that no other caller gets, emptied first.</summary>
    public async Task<string> ClaimEmptyDatabaseAsync()
    {
        Engines.RequireInstalled(Engine);
        var database = Interlocked.Increment(ref lastDatabase);
        Assert.True(database < Databases, $"The in-process tests need more than {Databases} databases.");

        var connectionString = ConnectionString(database);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true");
        await redis.GetServers().Single().FlushDatabaseAsync(database);
        return connectionString;
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open and nothing answers, as in a long stall.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>Lets a paused server carry on (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    public ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
        }

        process?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private Task SignalAsync(string signal) => ProcessControl.SignalAsync(process!, signal);

    private string ConnectionString(int database) => $"127.0.0.1:{port},defaultDatabase={database},abortConnect=false";
}

/// <summary>Garnet with the AppHost's scripting flags: scripts lock the keys they declare.</summary>
public sealed class GarnetStoreServer() : StoreServer(Engines.Garnet)
{
    protected override ProcessStartInfo StartInfo(int port) => new("dotnet",
    [
        GarnetServer.AssemblyPath, .. EngineFlags.Listen(port.ToString()), .. EngineFlags.GarnetScripts,
        "--max-databases", Databases.ToString(),
    ]);
}

/// <summary>redis-server from the PATH.</summary>
public sealed class RedisStoreServer() : StoreServer(Engines.RedisServer)
{
    protected override ProcessStartInfo StartInfo(int port) => new("redis-server",
    [
        .. EngineFlags.Listen(port.ToString()), "--databases", Databases.ToString(), "--save", "", "--appendonly", "no",
    ]);
}
