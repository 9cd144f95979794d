using System.Diagnostics;
using AppHost.Cache;
using StackExchange.Redis;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// One redis-server of a test's own, with the AppHost's durability flags (append-only file, flushed before
/// each answer) in a data folder of its own: a store that a test can kill -9 and start again on the same port
/// and files, as a crashed store comes back.
/// </summary>
public sealed class DurableRedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly int port = FreePort.Next();
    private readonly DirectoryInfo data = Directory.CreateTempSubdirectory("userservice-redis-");
    private Process? process;

    private DurableRedisServer()
    {
    }

    public string ConnectionString => $"127.0.0.1:{port},abortConnect=false";

    public static async Task<DurableRedisServer> StartAsync()
    {
        var server = new DurableRedisServer();
        await server.RestartAsync();
        return server;
    }

    /// <summary>Kills the process as a crash would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        process!.Kill();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Starts the server on its port and files, and waits until it answers.</summary>
    public async Task RestartAsync()
    {
        process?.Dispose();
        process = Process.Start(new ProcessStartInfo("redis-server", [.. EngineFlags.Listen(port.ToString()), .. EngineFlags.RedisServerDurability(data.FullName)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var answers = await Eventually.MatchAsync(async _ =>
        {
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},abortConnect=true");
                await probe.GetDatabase().PingAsync();
                return true;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
        }, answered => answered || process.HasExited, StartTimeout);
        if (!answers)
        {
            throw new InvalidOperationException($"redis-server did not answer on port {port} within {StartTimeout.TotalSeconds} s.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        data.Delete(recursive: true);
    }
}
