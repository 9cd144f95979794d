using AppHost;
using AppHost.Cache;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>
/// The cluster engine as the AppHost runs it: six nodes, each a resource of its own under the cache, three
/// of them primaries with a replica each; the service's two replicas repair the cluster's store run once
/// between them.
/// </summary>
[Collection(ClusterAppHostCollection.Name)]
public sealed class ClusterTests(ClusterAppHost fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EachOfTheSixNodesIsAHealthyResourceAndThreeArePrimariesWithAReplicaEach()
    {
        var cluster = Assert.IsType<RedisClusterResource>(fixture.Host.Resource(ResourceNames.Cache));
        foreach (var node in cluster.Nodes)
        {
            await fixture.Host.App.ResourceNotifications.WaitForResourceHealthyAsync(node.Name, Cancellation).WaitAsync(Bound, Cancellation);
        }

        await using var redis = await ConnectionMultiplexer.ConnectAsync(await fixture.Host.CacheConnectionStringAsync());
        var servers = redis.GetServers();

        Assert.Equal(6, cluster.Nodes.Count);
        Assert.All(servers, server => Assert.Equal(ServerType.Cluster, server.ServerType));
        Assert.Equal(3, servers.Count(server => !server.IsReplica));
        Assert.Equal(3, servers.Count(server => server.IsReplica));
    }

    [Fact]
    public async Task TwoServiceReplicasRepairTheClustersStoreRunOnceBetweenThem()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(await fixture.Host.CacheConnectionStringAsync());

        var record = await Eventually.MatchAsync(
            async _ => (await redis.GetDatabase().HashGetAllAsync(StoreLayout.Repair)).ToDictionary(entry => (string)entry.Name!, entry => (string?)entry.Value),
            fields => fields.GetValueOrDefault("phase") == nameof(RepairPhase.Done) && long.Parse(fields.GetValueOrDefault("skipped") ?? "0") >= 1,
            Bound);

        Assert.Equal("1", record["scans"]);
        // The run is the three primaries' runs: any of them restarting is a new one.
        Assert.Equal(3, record["run"]!.Split(',').Length);
    }
}
