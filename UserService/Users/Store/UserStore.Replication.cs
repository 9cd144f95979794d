using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>Checks <see cref="StoreReplicationOptions"/>' validation attributes, generated at build time rather than by reflection.</summary>
[OptionsValidator]
public sealed partial class StoreReplicationOptionsValidator : IValidateOptions<StoreReplicationOptions>;

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
    [TimeSpanRange("00:00:00.010", "00:00:01")]
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
        // outage. One that a failover just made a replica refuses WAIT, and one the client has no connection
        // to cannot be asked: neither confirms anything.
        var confirmed = await CallAsync(_ => Task.WhenAll(keys.Select(PrimaryOf).DistinctBy(server => server?.EndPoint)
            .Select(async primary =>
            {
                try
                {
                    return primary is null ? 0L : (long)await primary.ExecuteAsync("WAIT", acks, timeout);
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

    /// <summary>
    /// The primary that holds <paramref name="key"/>, or null while the client has no connection to it (a node
    /// that is reconnecting): the client says so with an <see cref="InvalidOperationException"/>, which would
    /// otherwise reach the caller as a 500.
    /// </summary>
    private IServer? PrimaryOf(RedisKey key)
    {
        try
        {
            return redis.GetServer(key);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
