using System.ComponentModel.DataAnnotations;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>How many store replicas must have a write before the service acknowledges it.</summary>
public sealed class StoreReplicationOptions
{
    public const string SectionName = "Store:Replication";

    /// <summary>
    /// Replicas that must confirm each write (Redis <c>WAIT</c>) on the primary that took it: 0 for a store
    /// without replicas, 1 for a cluster whose primaries each have one, so that a primary that dies takes no
    /// acknowledged write with it.
    /// </summary>
    [Range(0, 5)]
    public int Acks { get; set; }

    /// <summary>How long a write waits for its replicas before it answers 503: well under the 2 s a caller waits at most.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:01")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(500);
}

public sealed partial class UserStore
{
    /// <summary>
    /// Waits until <see cref="StoreReplicationOptions.Acks"/> replicas of each primary that holds one of
    /// <paramref name="keys"/> have everything that primary took so far. One that does not confirm in time
    /// fails the write: <paramref name="applied"/> says whether the write's user may already be changed.
    /// </summary>
    private async Task ReplicatedAsync(IEnumerable<RedisKey> keys, bool applied)
    {
        var (acks, timeout) = (replication.Value.Acks, (long)replication.Value.Timeout.TotalMilliseconds);
        if (acks == 0)
        {
            return;
        }

        // The primaries are looked up inside the call: one that a failover just removed fails it like any other
        // outage. One that a failover just made a replica refuses WAIT, and confirms nothing.
        var confirmed = await CallAsync(_ => Task.WhenAll(keys.Select(key => redis.GetServer(key)).DistinctBy(server => server.EndPoint)
            .Select(async primary =>
            {
                try
                {
                    return (long)await primary.ExecuteAsync("WAIT", acks, timeout);
                }
                catch (RedisServerException)
                {
                    return 0L;
                }
            })));
        if (confirmed.Any(replicas => replicas < acks))
        {
            telemetry.ReplicationTimedOut();
            throw new StoreUnavailableException(
                applied, retryAfter: null, new TimeoutException($"Fewer than {acks} store replica(s) confirmed a write within {timeout} ms."));
        }
    }
}
