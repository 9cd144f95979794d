using System.Threading.Channels;

namespace UserService.Infrastructure;

/// <summary>
/// Background work that runs whenever it is asked for, once at a time: requests that arrive while it runs
/// share the next run, so a burst of requests costs one or two runs, and whoever asks never waits. A run
/// that fails (the store is slow or away) is logged and tried again after a growing pause, so work asked
/// for while the store was out of reach still happens once it answers.
/// </summary>
public abstract class CoalescedWork(ILogger logger) : BackgroundService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(30);

    private readonly Channel<bool> requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Request() => requests.Writer.TryWrite(true);

    /// <summary>Asks for a run once <paramref name="delay"/> has passed, unless the host stops first.</summary>
    protected void RequestAfter(TimeSpan delay, TimeProvider time, CancellationToken stoppingToken) =>
        _ = Task.Delay(delay, time, stoppingToken).ContinueWith(_ => Request(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    protected abstract Task RunAsync(CancellationToken stoppingToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = FirstRetry;
        await foreach (var _ in requests.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await RunAsync(stoppingToken);
                retry = FirstRetry;
            }
            // A store timeout surfaces as a cancellation too: only the host's own stopping ends the work.
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.BackgroundWorkFailed(GetType().Name, retry, exception);
                await Task.Delay(retry, stoppingToken);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LongestRetry.Ticks));
                Request();
            }
            // The host is stopping: the run it cut short ends the work, whatever the cancellation surfaced as
            // (the store's 503 wraps it). Thrown on, it would be logged as a failed service on every shutdown.
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}

internal static partial class CoalescedWorkLog
{
    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "{Work} failed; it runs again in {RetryAfter}")]
    public static partial void BackgroundWorkFailed(this ILogger logger, string work, TimeSpan retryAfter, Exception exception);
}
