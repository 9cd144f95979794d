using Microsoft.Extensions.Logging.Abstractions;
using UserService.Infrastructure;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// Background work that the host's stopping cuts short ends quietly, whatever the store client made of the
/// cancellation: a failed background service would otherwise be logged as critical on every shutdown.
/// </summary>
public sealed class CoalescedWorkTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RunCutShortByTheHostStoppingEndsTheWorkWithoutAFault()
    {
        var work = new UntilStopped();
        await work.StartAsync(TestContext.Current.CancellationToken);
        work.Request();
        await work.Running.Task.WaitAsync(Bound, TestContext.Current.CancellationToken);

        await work.StopAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.True(work.ExecuteTask!.IsCompletedSuccessfully, $"The work ended {work.ExecuteTask.Status}: {work.ExecuteTask.Exception}");
    }

    /// <summary>A run that lasts until the host stops, then fails as a store call cut short does: a 503 around the cancellation.</summary>
    private sealed class UntilStopped() : CoalescedWork(NullLogger.Instance)
    {
        public TaskCompletionSource Running { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task RunAsync(CancellationToken stoppingToken)
        {
            Running.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException cancelled)
            {
                throw new StoreUnavailableException(mayHaveApplied: false, retryAfter: null, cancelled);
            }
        }
    }
}
