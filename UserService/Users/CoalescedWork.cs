using System.Threading.Channels;

namespace UserService.Users;

/// <summary>
/// Background work that runs whenever it is asked for, once at a time: requests that arrive while it runs
/// share the next run, so a burst of requests costs one or two runs, and whoever asks never waits. A run
/// that fails is logged and the work waits for the next request.
/// </summary>
public abstract class CoalescedWork(ILogger logger) : BackgroundService
{
    private readonly Channel<bool> requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Request() => requests.Writer.TryWrite(true);

    protected abstract Task RunAsync(CancellationToken stoppingToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var _ in requests.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await RunAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.BackgroundWorkFailed(GetType().Name, exception);
            }
        }
    }
}
