using StackExchange.Redis;

using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>
/// Repairs the store's indexes when the service starts and whenever its connection to the store comes back:
/// the moments after which a store that crashed may have replayed only part of a write. Best effort: readers
/// already ignore what a repair would remove, so the service serves while it runs, or if it fails.
/// </summary>
internal sealed class StoreRepair(IConnectionMultiplexer redis, UserStore store, ILogger<StoreRepair> logger) : CoalescedWork(logger)
{
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

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        var result = await store.RepairAsync(stoppingToken);
        if (result.Changed > 0)
        {
            logger.Repaired(result.Changed);
        }

        if (result.Quarantined > 0)
        {
            logger.Quarantined(result.Quarantined, (string)StoreLayout.Quarantine!);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType == ConnectionType.Interactive)
        {
            Request();
        }
    }
}
