using System.Diagnostics;
using System.Globalization;
using System.Net;
using AppHost.Cache;
using History;
using UserService.Tests.Infrastructure;

namespace Bench;

/// <summary>
/// The store a run measures against, with the persistence the AppHost gives each engine, so that writes cost
/// what they cost there: one Garnet or redis-server process, or a cluster of six redis-server processes
/// (three primaries with a replica each), where the service waits for a replica before it acknowledges. The
/// history checker's faults kill its nodes, and it starts them again as they were.
/// </summary>
internal sealed class Store(IReadOnlyList<Func<int, Server>> starts, string connectionString, IReadOnlyList<KeyValuePair<string, string>> serviceSettings)
    : IStoreHost, IAsyncDisposable
{
    private readonly Server[] nodes = [.. starts.Select(start => start(0))];
    private int restarts;

    private const int ClusterNodes = 6;

    /// <summary>What the service and the baseline connect with.</summary>
    public string ConnectionString { get; } = connectionString;

    /// <summary>What the service needs to know about the store beyond where it is.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ServiceSettings { get; } = serviceSettings;

    /// <summary>The port of the first node, where the scale run seeds.</summary>
    public int Port => nodes[0].Port;

    public Task<string> ConnectionStringAsync() => Task.FromResult(ConnectionString);

    public async Task RestartAsync(EndPoint node, CancellationToken cancellationToken)
    {
        var index = Array.FindIndex(nodes, server => server.Port == ((IPEndPoint)node).Port);
        await nodes[index].DisposeAsync();
        nodes[index] = starts[index](Interlocked.Increment(ref restarts));
        await nodes[index].WaitUntilReadyAsync(() => EngineRun.PingAsync(nodes[index].Port));
    }

    public static async Task<Store> StartAsync(string engine, string dataDirectory, string? cores, string logDirectory)
    {
        if (engine == "cluster")
        {
            return await StartClusterAsync(dataDirectory, cores, logDirectory);
        }

        var port = FreePort.Next(1)[0];
        var listen = EngineFlags.Listen(port.ToString(CultureInfo.InvariantCulture));
        Func<int, Server> start = engine switch
        {
            "garnet" => restart => Server.Start(Named("garnet", restart), port, "dotnet",
                [Build.GarnetServer, .. listen, .. EngineFlags.GarnetScripts, .. EngineFlags.GarnetDurability(dataDirectory)], [], logDirectory, cores: cores),
            "redis-server" => restart => Server.Start(Named("redis-server", restart), port, "redis-server",
                [.. listen, .. EngineFlags.RedisServerDurability(dataDirectory), "--save", ""], [], logDirectory, cores: cores),
            _ => throw new ArgumentException($"Unknown engine '{engine}': garnet, redis-server or cluster."),
        };
        var store = new Store([start], $"127.0.0.1:{port}", []);
        await store.nodes[0].WaitUntilReadyAsync(() => EngineRun.PingAsync(port));
        return store;
    }

    /// <summary>Six nodes formed into a cluster as the AppHost forms it, each with a cluster bus port of its own.</summary>
    private static async Task<Store> StartClusterAsync(string dataDirectory, string? cores, string logDirectory)
    {
        var ports = FreePort.Next(2 * ClusterNodes);
        var starts = new List<Func<int, Server>>();
        for (var i = 0; i < ClusterNodes; i++)
        {
            var (name, port, bus) = ($"cluster-node-{i + 1}", ports[i], ports[ClusterNodes + i]);
            var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, $"node-{i + 1}")).FullName;
            starts.Add(restart => Server.Start(Named(name, restart), port, "redis-server",
                [.. EngineFlags.Listen(port.ToString(CultureInfo.InvariantCulture)), .. EngineFlags.RedisClusterNodeDurability(directory), "--save", "",
                 .. EngineFlags.RedisClusterNode, "--cluster-port", bus.ToString(CultureInfo.InvariantCulture)],
                [], logDirectory, directory, cores));
        }

        var store = new Store(starts, string.Join(',', ports.Take(ClusterNodes).Select(port => $"127.0.0.1:{port}")), [new("Store__Replication__Acks", "1")]);
        var nodes = store.nodes;
        foreach (var node in nodes)
        {
            await node.WaitUntilReadyAsync(() => EngineRun.PingAsync(node.Port));
        }

        var addresses = nodes.Select(node => $"127.0.0.1:{node.Port}").ToList();
        await RunAsync("redis-cli", ["--cluster", "create", .. addresses, "--cluster-replicas", "1", "--cluster-yes"]);
        await nodes[0].WaitUntilReadyAsync(async () => (await RunAsync("redis-cli", ["-p", nodes[0].Port.ToString(CultureInfo.InvariantCulture), "cluster", "info"])).Contains("cluster_state:ok", StringComparison.Ordinal));
        // Writes wait for a replica: each primary must have one in sync before the first.
        foreach (var node in nodes)
        {
            await node.WaitUntilReadyAsync(async () => (await RunAsync("redis-cli", ["-p", node.Port.ToString(CultureInfo.InvariantCulture), "info", "replication"])) is var info
                && (info.Contains("master_link_status:up", StringComparison.Ordinal) || info.Contains("state=online", StringComparison.Ordinal)));
        }

        return store;
    }

    /// <summary>A node's log name: a node started again logs to a file of its own.</summary>
    private static string Named(string name, int restart) => restart == 0 ? name : $"{name}-restart-{restart}";

    private static async Task<string> RunAsync(string command, string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed:\n{output}{await process.StandardError.ReadToEndAsync()}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
    }
}
