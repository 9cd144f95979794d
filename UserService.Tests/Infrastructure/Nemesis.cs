using System.Diagnostics;
using System.Globalization;
using System.Net;
using AppHost;
using AppHost.Cache;
using Aspire.Hosting.ApplicationModel;
using History;
using StackExchange.Redis;
using UserService.Users.Store;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// The faults the history checker's runs inject into an AppHost's store, each healed before it ends: on a
/// single node, kills and stalls of the store; on the cluster, kills of the primaries that hold the id
/// counter, the generation and a bucket, a primary frozen past the node timeout, a replica that lags, and
/// lagging replicas of the id counter's and the generation's primaries promoted in their place. Every wait
/// is bounded.
/// </summary>
public sealed class Nemesis(RunningAppHost host)
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(1);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>Kill -9 and SIGSTOP of a single-node store: at least six faults, of three kinds.</summary>
    public IEnumerable<Fault> SingleNode() =>
    [
        new("kill -9 of the store", _ => KillStoreAsync(restartAfter: TimeSpan.Zero)),
        new("SIGSTOP of the store, 2.5 s", _ => StallStoreAsync(TimeSpan.FromSeconds(2.5))),
        new("kill -9 of the store, back after 2 s", _ => KillStoreAsync(restartAfter: TimeSpan.FromSeconds(2))),
        new("SIGSTOP of the store, 1 s", _ => StallStoreAsync(TimeSpan.FromSeconds(1))),
        new("kill -9 of the store", _ => KillStoreAsync(restartAfter: TimeSpan.Zero)),
        new("SIGSTOP of the store, 2.5 s", _ => StallStoreAsync(TimeSpan.FromSeconds(2.5))),
    ];

    /// <summary>
    /// Failovers, stalls and lagging replicas of a Redis Cluster, on the shards of the keys every write touches:
    /// seven faults, of four kinds.
    /// </summary>
    public IEnumerable<Fault> Cluster() =>
    [
        new("kill -9 of a primary", _ => KillPrimaryAsync(StoreLayout.NextId)),
        new("lagging replica promoted", _ => PromoteLaggingReplicaAsync(StoreLayout.NextId)),
        new("SIGSTOP of a primary past the node timeout", _ => FreezePrimaryAsync(StoreLayout.Data(9), TimeSpan.FromSeconds(5))),
        new("lagging replica promoted", _ => PromoteLaggingReplicaAsync(StoreLayout.Generation)),
        new("SIGSTOP of a replica, 1.5 s", _ => FreezeReplicaAsync(StoreLayout.Data(2), TimeSpan.FromSeconds(1.5))),
        new("kill -9 of a primary", _ => KillPrimaryAsync(StoreLayout.Generation)),
        new("kill -9 of a primary", _ => KillPrimaryAsync(StoreLayout.Data(12))),
    ];

    private async Task KillStoreAsync(TimeSpan restartAfter)
    {
        await KillAsync(ResourceNames.Cache);
        await Task.Delay(restartAfter, Cancellation);
        await host.ExecuteCommandAsync(ResourceNames.Cache, KnownResourceCommands.StartCommand);
        await host.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Cache, Cancellation).WaitAsync(Bound, Cancellation);
    }

    private async Task StallStoreAsync(TimeSpan stall)
    {
        using var store = Process.GetProcessById(await PidAsync(ResourceNames.Cache));
        await ProcessControl.SignalAsync(store, "STOP");
        await Task.Delay(stall, Cancellation);
        await ProcessControl.SignalAsync(store, "CONT");
    }

    private async Task KillPrimaryAsync(RedisKey key)
    {
        var node = await NodeAsync(await ShardOfAsync(key));
        await KillAsync(node);
        await RestartNodeAsync(node);
    }

    /// <summary>
    /// The replica of <paramref name="key"/>'s primary falls behind (SIGSTOP) while the primary takes writes that
    /// no replica confirms; then the primary dies and the replica, let go, takes its place without them.
    /// </summary>
    private async Task PromoteLaggingReplicaAsync(RedisKey key)
    {
        var shard = await ShardOfAsync(key);
        using var replica = Process.GetProcessById(await ReplicaPidAsync(shard));
        await ProcessControl.SignalAsync(replica, "STOP");
        var node = await NodeAsync(shard);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3), Cancellation);
            await KillAsync(node);
        }
        finally
        {
            await ProcessControl.SignalAsync(replica, "CONT");
        }

        await RestartNodeAsync(node);
    }

    private async Task FreezePrimaryAsync(RedisKey key, TimeSpan freeze)
    {
        var shard = await ShardOfAsync(key);
        using var primary = Process.GetProcessById(await NodePidAsync(shard));
        await ProcessControl.SignalAsync(primary, "STOP");
        await Task.Delay(freeze, Cancellation);
        await ProcessControl.SignalAsync(primary, "CONT");
        await ClusterHealedAsync();
    }

    private async Task FreezeReplicaAsync(RedisKey key, TimeSpan freeze)
    {
        using var replica = Process.GetProcessById(await ReplicaPidAsync(await ShardOfAsync(key)));
        await ProcessControl.SignalAsync(replica, "STOP");
        await Task.Delay(freeze, Cancellation);
        await ProcessControl.SignalAsync(replica, "CONT");
        await ClusterHealedAsync();
    }

    private async Task RestartNodeAsync(string node)
    {
        await host.ExecuteCommandAsync(node, KnownResourceCommands.StartCommand);
        await ClusterHealedAsync();
    }

    private async Task KillAsync(string resource)
    {
        using (var process = Process.GetProcessById(await PidAsync(resource)))
        {
            process.Kill();
        }

        await host.App.ResourceNotifications.WaitForResourceAsync(resource, KnownResourceStates.TerminalStates, Cancellation).WaitAsync(Bound, Cancellation);
    }

    /// <summary>Waits until every slot is served and every primary has a replica in sync again, so that the next fault finds a whole cluster.</summary>
    private async Task ClusterHealedAsync()
    {
        var healed = await Eventually.MatchAsync(async _ =>
        {
            await using var redis = await ConnectAsync();
            var servers = redis.GetServers().Where(server => server.IsConnected).ToList();
            if (servers.Count < 6)
            {
                return false;
            }

            foreach (var server in servers)
            {
                var info = await server.InfoRawAsync("replication") ?? "";
                var cluster = (string?)await server.ExecuteAsync("CLUSTER", "INFO") ?? "";
                if (!cluster.Contains("cluster_state:ok", StringComparison.Ordinal)
                    || !info.Contains("master_link_status:up", StringComparison.Ordinal) && !info.Contains("state=online", StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }, healed => healed, Bound);
        Assert.True(healed, "The cluster did not heal within a minute of the fault.");
    }

    private async Task<EndPoint> ShardOfAsync(RedisKey key)
    {
        await using var redis = await ConnectAsync();
        return redis.GetServer(key).EndPoint;
    }

    /// <summary>The node resource that listens at <paramref name="endpoint"/>.</summary>
    private Task<string> NodeAsync(EndPoint endpoint)
    {
        var cluster = Assert.IsType<RedisClusterResource>(host.Resource(ResourceNames.Cache));
        return Task.FromResult(cluster.Nodes.Single(node => node.PrimaryEndpoint.Port == ((IPEndPoint)endpoint).Port).Name);
    }

    private async Task<int> NodePidAsync(EndPoint endpoint)
    {
        await using var redis = await ConnectAsync();
        var info = await redis.GetServer(endpoint).InfoAsync("server");
        return int.Parse(info.SelectMany(group => group).Single(pair => pair.Key == "process_id").Value, CultureInfo.InvariantCulture);
    }

    private async Task<int> ReplicaPidAsync(EndPoint primary)
    {
        await using var redis = await ConnectAsync();
        var nodes = await redis.GetServer(primary).ClusterNodesAsync() ?? throw new InvalidOperationException("The node knows no cluster.");
        var replica = nodes.Nodes.Single(node => node.ParentNodeId == nodes[primary]!.NodeId && !node.IsNoAddr);
        return await NodePidAsync(replica.EndPoint!);
    }

    private async Task<int> PidAsync(string resource)
    {
        var running = await host.App.ResourceNotifications.WaitForResourceAsync(
            resource,
            update => update.Snapshot.State?.Text == KnownResourceStates.Running
                && update.Snapshot.Properties.Any(property => property.Name == "executable.pid" && property.Value is not null),
            Cancellation).WaitAsync(Bound, Cancellation);
        return Convert.ToInt32(running.Snapshot.Properties.Single(property => property.Name == "executable.pid").Value, CultureInfo.InvariantCulture);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var options = ConfigurationOptions.Parse(await host.CacheConnectionStringAsync());
        options.AllowAdmin = true;
        options.AbortOnConnectFail = false;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }
}
