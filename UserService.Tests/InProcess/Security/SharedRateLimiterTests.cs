using System.Threading.RateLimiting;
using UserService.Infrastructure;

namespace UserService.Tests.InProcess.Security;

/// <summary>The shared limiter's own bookkeeping, with the store's slices and the clock in the test's hands.</summary>
public sealed class SharedRateLimiterTests
{
    private static readonly RateLimitingOptions Limits = new() { PermitLimit = 100, Window = TimeSpan.FromSeconds(1) };

    [Fact]
    public async Task RequestWhoseSliceArrivesAfterItsWindowEndedIsNotRefusedUnderTheLimit()
    {
        var clock = new SettableClock(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000_999));
        var lateSlice = new TaskCompletionSource<long>();
        var firstWindow = clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000;
        using var local = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions { PermitLimit = 100, Window = TimeSpan.FromSeconds(1), SegmentsPerWindow = 4 });
        using var limiter = new SharedRateLimiter("caller:test", Limits, null!, clock, local)
        {
            SliceSource = window => window == firstWindow ? lateSlice.Task : Task.FromResult(10L),
        };

        // A request asks for its window's slice just before the window ends; another, in the next window,
        // finds no permit held yet while the first slice is still on its way.
        var first = limiter.AcquireAsync(1, TestContext.Current.CancellationToken);
        clock.Advance(TimeSpan.FromMilliseconds(2));
        using var second = limiter.AttemptAcquire(1);
        lateSlice.SetResult(10);
        using var lease = await first;

        Assert.False(second.IsAcquired);
        Assert.True(lease.IsAcquired);
    }

    private sealed class SettableClock(DateTimeOffset now) : TimeProvider
    {
        private long ticks = now.UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
    }
}
