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

    [Fact]
    public async Task CallerWhoKeepsAskingIsNeverIdleAndOneWhoStoppedIsIdleSinceItsLastWindow()
    {
        var clock = new SettableClock(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000_000));
        using var local = new UnusedLocalCount();
        using var limiter = new SharedRateLimiter("caller:test", Limits, null!, clock, local)
        {
            SliceSource = _ => Task.FromResult(10L),
        };

        // Half a minute of requests, every permit granted by the store: the local count is never asked.
        var idleWhileAsking = new List<TimeSpan?>();
        for (var second = 0; second < 30; second++)
        {
            using var lease = await limiter.AcquireAsync(1, TestContext.Current.CancellationToken);
            Assert.True(lease.IsAcquired);
            idleWhileAsking.Add(limiter.IdleDuration);
            clock.Advance(TimeSpan.FromMilliseconds(999));
            idleWhileAsking.Add(limiter.IdleDuration);
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        clock.Advance(TimeSpan.FromSeconds(15));

        Assert.All(idleWhileAsking, Assert.Null);
        Assert.Equal(TimeSpan.FromSeconds(15), limiter.IdleDuration);
    }

    /// <summary>A local count that was never asked, as when the store grants every slice: idle for ever.</summary>
    private sealed class UnusedLocalCount : RateLimiter
    {
        public override TimeSpan? IdleDuration => TimeSpan.FromMinutes(10);

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => throw new InvalidOperationException("The local count was asked.");

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The local count was asked.");
    }

    private sealed class SettableClock(DateTimeOffset now) : TimeProvider
    {
        private long ticks = now.UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
    }
}
