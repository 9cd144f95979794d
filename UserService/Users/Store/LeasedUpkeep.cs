using StackExchange.Redis;
using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>
/// Store upkeep that one replica does at a time, under a lease (the migration, the repair): looked at when the
/// replica starts and whenever its store connection comes back, done by the replica that takes the lease, and
/// looked at again by the others once the lease could have lapsed, in case its holder stopped. The holder
/// renews the lease between batches (<see cref="KeepLeaseAsync"/>) and gives it up when it is done.
/// </summary>
internal abstract class LeasedUpkeep(IConnectionMultiplexer redis, RedisKey leaseKey, TimeSpan leaseDuration, TimeProvider time, ILogger logger)
    : CoalescedWork(logger)
{
    /// <summary>The lease this upkeep is done under; its owner names this replica.</summary>
    protected StoreLease Lease { get; } = new(leaseKey, leaseDuration);

    protected IConnectionMultiplexer Redis => redis;

    protected TimeProvider Time => time;

    /// <summary>What is due on the store now (the store run to repair, the layout to move to), or null when nothing is.</summary>
    protected abstract Task<string?> DueAsync(IDatabase database, CancellationToken stoppingToken);

    /// <summary>Does what is <paramref name="due"/>, holding the lease.</summary>
    protected abstract Task DoAsync(IDatabase database, string due, CancellationToken stoppingToken);

    /// <summary>Whether a store connection that comes back is a reason to look again.</summary>
    protected virtual bool LooksAgainOnReconnect => true;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            Request();
            await base.ExecuteAsync(stoppingToken);
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    protected sealed override async Task RunAsync(CancellationToken stoppingToken)
    {
        var database = redis.GetDatabase();
        if (await DueAsync(database, stoppingToken) is null)
        {
            return;
        }

        if (!await Lease.HoldAsync(database))
        {
            RequestAfter(Lease.Duration, time, stoppingToken);
            return;
        }

        try
        {
            // Looked at again under the lease: the replica that held it may have finished in between.
            if (await DueAsync(database, stoppingToken) is { } due)
            {
                await DoAsync(database, due, stoppingToken);
            }
        }
        finally
        {
            await Lease.ReleaseAsync(database);
        }
    }

    /// <summary>Renews the lease between two batches; stops the work if another replica holds it now, which continues it.</summary>
    protected async Task KeepLeaseAsync(IDatabase database)
    {
        if (!await Lease.HoldAsync(database))
        {
            throw new InvalidOperationException($"{GetType().Name}'s lease passed to another replica; it continues there.");
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType == ConnectionType.Interactive && LooksAgainOnReconnect)
        {
            Request();
        }
    }
}
