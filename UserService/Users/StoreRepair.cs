using System.Threading.Channels;
using StackExchange.Redis;

namespace UserService.Users;

/// <summary>
/// Repairs the store's indexes when the service starts and whenever its connection to the store comes back:
/// the moments after which a store that crashed may have replayed only part of a write.
/// </summary>
internal sealed class StoreRepair(IConnectionMultiplexer redis, UserStore store, ILogger<StoreRepair> logger) : BackgroundService
{
    // One pending run is enough: a run that starts after a reconnect sees everything the reconnect could.
    private readonly Channel<bool> runs = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            runs.Writer.TryWrite(true);
            await foreach (var _ in runs.Reader.ReadAllAsync(stoppingToken))
            {
                await RunAsync(stoppingToken);
            }
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            var result = await store.RepairAsync(stoppingToken);
            if (result.Changed > 0)
            {
                logger.Repaired(result.Changed);
            }

            if (result.Unreadable > 0)
            {
                logger.UnreadableDocuments(result.Unreadable);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Best effort: readers already ignore what a repair would remove, so the service keeps serving.
            logger.RepairFailed(exception);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType == ConnectionType.Interactive)
        {
            runs.Writer.TryWrite(true);
        }
    }
}
