using System.Diagnostics;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace History;

/// <summary>What hosts the store under test: where it is, and how a node that was killed is started again.</summary>
public interface IStoreHost
{
    Task<string> ConnectionStringAsync();

    /// <summary>Starts the node that listened at <paramref name="node"/> again, once its process is gone; returns when it answers.</summary>
    Task RestartAsync(EndPoint node, CancellationToken cancellationToken);
}

/// <summary>What runs the service's replicas under test.</summary>
public interface IServiceHost
{
    /// <summary>Kills one replica with SIGKILL, another each time, and starts it again; returns when it is ready.</summary>
    Task KillReplicaAsync(CancellationToken cancellationToken);
}

/// <summary>The store's keys that every write touches, whose shards the cluster's faults aim at.</summary>
public sealed record StoreKeys(string IdCounter, string Generation, IReadOnlyList<string> Buckets);

/// <summary>
/// The faults the history checker's runs inject, each healed before it ends: on a single node, kills and
/// stalls of the store; on a cluster, kills of the primaries that hold the id counter, the generation and a
/// bucket, a primary frozen past the node timeout, a replica that lags, and lagging replicas of the id
/// counter's and the generation's primaries promoted in their place; on both, a service replica killed.
/// Store processes are found by the <c>process_id</c> their nodes report. Every wait is bounded.
/// </summary>
public sealed class Nemesis(IStoreHost host, StoreKeys keys, IServiceHost services)
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(1);

    /// <summary>Kill -9 and SIGSTOP of a single-node store, and a service replica killed: seven faults, of five kinds.</summary>
    public IEnumerable<Fault> SingleNode() =>
    [
        new("kill -9 of the store", token => KillAsync(keys.IdCounter, restartAfter: TimeSpan.Zero, token)),
        new("SIGSTOP of the store, 2.5 s", token => FreezeAsync(keys.IdCounter, replica: false, TimeSpan.FromSeconds(2.5), token)),
        new("kill -9 of the store, back after 2 s", token => KillAsync(keys.IdCounter, restartAfter: TimeSpan.FromSeconds(2), token)),
        ServiceReplicaKilled(),
        new("SIGSTOP of the store, 1 s", token => FreezeAsync(keys.IdCounter, replica: false, TimeSpan.FromSeconds(1), token)),
        new("kill -9 of the store", token => KillAsync(keys.IdCounter, restartAfter: TimeSpan.Zero, token)),
        new("SIGSTOP of the store, 2.5 s", token => FreezeAsync(keys.IdCounter, replica: false, TimeSpan.FromSeconds(2.5), token)),
    ];

    /// <summary>
    /// Failovers, stalls and lagging replicas of a Redis Cluster, on the shards of the keys every write touches,
    /// and a service replica killed: eight faults, each of its own kind.
    /// </summary>
    public IEnumerable<Fault> Cluster() =>
    [
        new("kill -9 of the id counter's primary", token => KillAsync(keys.IdCounter, TimeSpan.Zero, token)),
        new("lagging replica of the id counter's primary promoted", token => PromoteLaggingReplicaAsync(keys.IdCounter, token)),
        new("SIGSTOP of a bucket's primary past the node timeout", token => FreezeAsync(keys.Buckets[9], replica: false, TimeSpan.FromSeconds(5), token)),
        ServiceReplicaKilled(),
        new("lagging replica of the generation's primary promoted", token => PromoteLaggingReplicaAsync(keys.Generation, token)),
        new("SIGSTOP of a bucket's replica, 1.5 s", token => FreezeAsync(keys.Buckets[2], replica: true, TimeSpan.FromSeconds(1.5), token)),
        new("kill -9 of the generation's primary", token => KillAsync(keys.Generation, TimeSpan.Zero, token)),
        new("kill -9 of a bucket's primary", token => KillAsync(keys.Buckets[12], TimeSpan.Zero, token)),
    ];

    private Fault ServiceReplicaKilled() => new("kill -9 of a service replica", services.KillReplicaAsync, CutsRequests: true);

    /// <summary>Kills the primary that serves <paramref name="key"/>, and starts it again after <paramref name="restartAfter"/>.</summary>
    private async Task KillAsync(string key, TimeSpan restartAfter, CancellationToken cancellationToken)
    {
        var node = await PrimaryOfAsync(key);
        await KillAsync(node, cancellationToken);
        await Task.Delay(restartAfter, cancellationToken);
        await host.RestartAsync(node, cancellationToken);
        await HealedAsync(cancellationToken);
    }

    /// <summary>Freezes the primary that serves <paramref name="key"/>, or its replica, for <paramref name="freeze"/>.</summary>
    private async Task FreezeAsync(string key, bool replica, TimeSpan freeze, CancellationToken cancellationToken)
    {
        var primary = await PrimaryOfAsync(key);
        var node = replica ? await ReplicaOfAsync(primary) : primary;
        using var process = Process.GetProcessById(await PidAsync(node));
        Signal(process, "STOP");
        try
        {
            await Task.Delay(freeze, cancellationToken);
        }
        finally
        {
            Signal(process, "CONT");
        }

        await HealedAsync(cancellationToken);
    }

    /// <summary>
    /// The replica of <paramref name="key"/>'s primary falls behind (SIGSTOP) while the primary takes writes
    /// that no replica confirms; then the primary dies, and the replica, let go, takes its place without them.
    /// </summary>
    private async Task PromoteLaggingReplicaAsync(string key, CancellationToken cancellationToken)
    {
        var primary = await PrimaryOfAsync(key);
        using var replica = Process.GetProcessById(await PidAsync(await ReplicaOfAsync(primary)));
        Signal(replica, "STOP");
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            await KillAsync(primary, cancellationToken);
        }
        finally
        {
            Signal(replica, "CONT");
        }

        await host.RestartAsync(primary, cancellationToken);
        await HealedAsync(cancellationToken);
    }

    private async Task KillAsync(EndPoint node, CancellationToken cancellationToken)
    {
        using var process = Process.GetProcessById(await PidAsync(node));
        process.Kill();
        var (gone, _) = await WaitAsync(async () =>
        {
            try
            {
                await using var probe = await ConnectAsync(node.ToString());
                return !probe.IsConnected;
            }
            catch (RedisConnectionException)
            {
                return true;
            }
        }, cancellationToken);
        if (!gone)
        {
            throw new InvalidOperationException($"The store node at {node} still answers after its kill.");
        }
    }

    /// <summary>
    /// Waits until every node answers, and on a cluster until every slot is served and every primary has a
    /// replica in sync again, so that the next fault finds a whole store.
    /// </summary>
    private async Task HealedAsync(CancellationToken cancellationToken)
    {
        var (healed, last) = await WaitAsync(async () =>
        {
            await using var redis = await ConnectAsync();
            var servers = redis.GetServers();
            if (servers.Any(server => !server.IsConnected))
            {
                return false;
            }

            foreach (var server in servers.Where(server => server.ServerType == ServerType.Cluster))
            {
                var replication = await server.InfoRawAsync("replication") ?? "";
                var cluster = (string?)await server.ExecuteAsync("CLUSTER", "INFO") ?? "";
                if (!cluster.Contains("cluster_state:ok", StringComparison.Ordinal)
                    || !replication.Contains("master_link_status:up", StringComparison.Ordinal) && !replication.Contains("state=online", StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return (await Task.WhenAll(servers.Select(server => server.PingAsync()))).Length == servers.Length;
        }, cancellationToken);
        if (!healed)
        {
            throw new InvalidOperationException($"The store did not heal within a minute of the fault; its last refusal: {last?.Message ?? "none, but not every node was connected or in sync"}");
        }
    }

    private async Task<EndPoint> PrimaryOfAsync(string key)
    {
        await using var redis = await ConnectAsync();
        return redis.GetServer((RedisKey)key).EndPoint;
    }

    private async Task<EndPoint> ReplicaOfAsync(EndPoint primary)
    {
        await using var redis = await ConnectAsync();
        var nodes = await redis.GetServer(primary).ClusterNodesAsync() ?? throw new InvalidOperationException("The store is not a cluster.");
        return nodes.Nodes.Single(node => node.ParentNodeId == nodes[primary]!.NodeId && !node.IsNoAddr).EndPoint!;
    }

    private async Task<int> PidAsync(EndPoint node)
    {
        await using var redis = await ConnectAsync();
        var info = await redis.GetServer(node).InfoAsync("server");
        return int.Parse(info.SelectMany(group => group).Single(pair => pair.Key == "process_id").Value, CultureInfo.InvariantCulture);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(string? endpoint = null)
    {
        var options = ConfigurationOptions.Parse(await host.ConnectionStringAsync());
        if (endpoint is not null)
        {
            options.EndPoints.Clear();
            options.EndPoints.Add(endpoint);
        }

        options.AllowAdmin = true;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 1000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>Whether <paramref name="condition"/> came to hold within a minute, and the store's last refusal while it did not.</summary>
    private static async Task<(bool Met, RedisException? Last)> WaitAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        RedisException? last = null;
        var until = DateTime.UtcNow + Bound;
        while (DateTime.UtcNow < until)
        {
            try
            {
                if (await condition())
                {
                    return (true, last);
                }
            }
            catch (RedisException exception)
            {
                // A node still loading its data, or not listening yet.
                last = exception;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        return (false, last);
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {process.Id} failed.");
        }
    }
}
