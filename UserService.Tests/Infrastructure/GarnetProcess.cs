using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AppHost.Cache;
using StackExchange.Redis;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// One Garnet server for the in-process tests, started as the AppHost starts it (scripts locked by their
/// keys), on a free loopback port, without persistence. Each test class takes a logical database of its
/// own, so that classes never see each other's users.
/// </summary>
public sealed class GarnetProcess : IAsyncLifetime
{
    private const int Databases = 128;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static int lastDatabase;

    private Process? process;

    public int Port { get; private set; }

    public async ValueTask InitializeAsync()
    {
        Port = FreePort();
        process = Process.Start(new ProcessStartInfo("dotnet",
        [
            GarnetServer.AssemblyPath, "--port", Port.ToString(), "--bind", "127.0.0.1",
            "--lua", "--lua-transaction-mode", "--max-databases", Databases.ToString(),
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
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
        var database = Interlocked.Increment(ref lastDatabase);
        Assert.True(database < Databases, $"The in-process tests need more than {Databases} databases.");

        var connectionString = ConnectionString(database);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true");
        await redis.GetServers().Single().FlushDatabaseAsync(database);
        return connectionString;
    }

    public ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
        }

        process?.Dispose();
        return ValueTask.CompletedTask;
    }

    private string ConnectionString(int database) => $"127.0.0.1:{Port},defaultDatabase={database},abortConnect=false";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
