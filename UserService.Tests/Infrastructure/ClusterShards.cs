using System.Diagnostics;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// A Redis Cluster's shards as a test sees them: which primary serves a key, and that primary's replica,
/// which a test can hold back (SIGSTOP) so that the primary's writes are on no replica: a lagging replica,
/// the fault that a failover turns into lost writes.
/// </summary>
public sealed class ClusterShards : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly ConnectionMultiplexer redis;

    private ClusterShards(ConnectionMultiplexer redis) => this.redis = redis;

    public static async Task<ClusterShards> ConnectAsync(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AllowAdmin = true;
        return new ClusterShards(await ConnectionMultiplexer.ConnectAsync(options));
    }

    public IDatabase Database => redis.GetDatabase();

    /// <summary>The primary that serves <paramref name="key"/>: its shard.</summary>
    public EndPoint ShardOf(RedisKey key) => redis.GetServer(key).EndPoint;

    public bool IsOn(EndPoint shard, params RedisKey[] keys) => keys.Any(key => ShardOf(key).Equals(shard));

    /// <summary>
    /// Freezes the replica of <paramref name="shard"/> until the answer is disposed, which lets it carry on and
    /// waits until it has caught up with its primary again.
    /// </summary>
    public async Task<IAsyncDisposable> HoldBackReplicaAsync(EndPoint shard)
    {
        var primary = redis.GetServer(shard);
        var configuration = await primary.ClusterNodesAsync() ?? throw new InvalidOperationException("The node knows no cluster.");
        var primaryNode = configuration[shard] ?? throw new InvalidOperationException($"{shard} is not in the cluster.");
        var replicaNode = configuration.Nodes.Single(node => node.ParentNodeId == primaryNode.NodeId);
        var info = await redis.GetServer(replicaNode.EndPoint!).InfoAsync("server");
        var pid = int.Parse(info.SelectMany(group => group).Single(pair => pair.Key == "process_id").Value, CultureInfo.InvariantCulture);
        var replica = Process.GetProcessById(pid);
        await ProcessControl.SignalAsync(replica, "STOP");
        return new HeldBack(primary, replica);
    }

    public ValueTask DisposeAsync() => redis.DisposeAsync();

    private sealed class HeldBack(IServer primary, Process replica) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await ProcessControl.SignalAsync(replica, "CONT");
            replica.Dispose();
            var caughtUp = await Eventually.MatchAsync(async _ => CaughtUp(await primary.InfoRawAsync("replication")), caughtUp => caughtUp, Bound);
            Assert.True(caughtUp, $"The replica of {primary.EndPoint} did not catch up with it again.");
        }

        /// <summary>Whether the one replica is online at the primary's replication offset.</summary>
        private static bool CaughtUp(string? info)
        {
            var fields = (info ?? "").Split('\n', StringSplitOptions.TrimEntries);
            var offset = fields.FirstOrDefault(line => line.StartsWith("master_repl_offset:", StringComparison.Ordinal))?.Split(':')[1];
            var replica = fields.FirstOrDefault(line => line.StartsWith("slave0:", StringComparison.Ordinal)) ?? "";
            return replica.Contains("state=online", StringComparison.Ordinal) && replica.Contains($"offset={offset},", StringComparison.Ordinal);
        }
    }
}
