using System.Diagnostics;
using System.Globalization;
using AppHost.Cache;

namespace Bench;

/// <summary>
/// The store a run measures against, with the persistence the AppHost gives each engine, so that writes cost
/// what they cost there: one Garnet or redis-server process, or a cluster of six redis-server processes
/// (three primaries with a replica each), where the service waits for a replica before it acknowledges.
/// </summary>
internal sealed class Store(IReadOnlyList<Server> nodes, string connectionString, IReadOnlyList<KeyValuePair<string, string>> serviceSettings) : IAsyncDisposable
{
    private const int ClusterNodes = 6;

    /// <summary>What the service and the baseline connect with.</summary>
    public string ConnectionString { get; } = connectionString;

    /// <summary>What the service needs to know about the store beyond where it is.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ServiceSettings { get; } = serviceSettings;

    /// <summary>The port of the first node, where the scale run seeds.</summary>
    public int Port => nodes[0].Port;

    public static async Task<Store> StartAsync(string engine, string dataDirectory, string? cores, string logDirectory)
    {
        if (engine == "cluster")
        {
            return await StartClusterAsync(dataDirectory, cores, logDirectory);
        }

        var port = Server.FreePorts(1)[0];
        var listen = EngineFlags.Listen(port.ToString(CultureInfo.InvariantCulture));
        var store = engine switch
        {
            "garnet" => Server.Start("garnet", port, "dotnet",
                [Build.GarnetServer, .. listen, .. EngineFlags.GarnetScripts, .. EngineFlags.GarnetDurability(dataDirectory)], [], logDirectory, cores: cores),
            "redis-server" => Server.Start("redis-server", port, "redis-server",
                [.. listen, .. EngineFlags.RedisServerDurability(dataDirectory), "--save", ""], [], logDirectory, cores: cores),
            _ => throw new ArgumentException($"Unknown engine '{engine}': garnet, redis-server or cluster."),
        };
        await store.WaitUntilReadyAsync(() => EngineRun.PingAsync(port));
        return new Store([store], $"127.0.0.1:{port}", []);
    }

    /// <summary>Six nodes formed into a cluster as the AppHost forms it, each with a cluster bus port of its own.</summary>
    private static async Task<Store> StartClusterAsync(string dataDirectory, string? cores, string logDirectory)
    {
        var ports = Server.FreePorts(2 * ClusterNodes);
        var nodes = new List<Server>();
        for (var i = 0; i < ClusterNodes; i++)
        {
            var (port, bus) = (ports[i], ports[ClusterNodes + i]);
            var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, $"node-{i + 1}")).FullName;
            var node = Server.Start($"cluster-node-{i + 1}", port, "redis-server",
                [.. EngineFlags.Listen(port.ToString(CultureInfo.InvariantCulture)), .. EngineFlags.RedisClusterNodeDurability(directory), "--save", "",
                 .. EngineFlags.RedisClusterNode, "--cluster-port", bus.ToString(CultureInfo.InvariantCulture)],
                [], logDirectory, directory, cores);
            nodes.Add(node);
            await node.WaitUntilReadyAsync(() => EngineRun.PingAsync(port));
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

        return new Store(nodes, string.Join(',', addresses), [new("Store__Replication__Acks", "1")]);
    }

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
