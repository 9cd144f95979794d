using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// A lease in the store that one replica holds at a time (the repair's, the migration's): taken or renewed by
/// its holder, given up when it is done, and lapsing by itself after <see cref="Duration"/> if the holder stops.
/// </summary>
internal sealed class StoreLease(RedisKey key, TimeSpan duration)
{
    /// <summary>This replica, as the lease names its holder.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    public TimeSpan Duration => duration;

    /// <summary>Takes the lease, or renews it if this replica holds it; false when another replica does.</summary>
    public async Task<bool> HoldAsync(IDatabase database) =>
        (await StoreLayout.HoldLeaseAsync(database, key, Owner, duration)).Answer == StoreLayout.ScriptAnswer.Leased;

    /// <summary>Gives the lease up, if this replica still holds it.</summary>
    public Task ReleaseAsync(IDatabase database) => StoreLayout.ReleaseLeaseAsync(database, key, Owner);
}
