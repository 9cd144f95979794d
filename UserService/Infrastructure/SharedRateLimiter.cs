using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace UserService.Infrastructure;

/// <summary>
/// One caller's limit, shared by every replica: a fixed window whose permits are counted in the store. A
/// replica takes them a slice at a time (a tenth of the limit) and spends them locally, so that a busy
/// caller costs the store one call per slice rather than one per request, and no replica can spend a
/// permit the store did not grant: together the replicas allow at most the limit per window. When the
/// store does not answer within <see cref="RateLimitingOptions.StoreTimeout"/>, the replica counts on its own instead: an
/// outage of the store never turns into refusals, nor into errors, from the limiter.
/// </summary>
internal sealed class SharedRateLimiter(
    string caller, RateLimitingOptions limits, IConnectionMultiplexer redis, TimeProvider clock, RateLimiter local) : RateLimiter
{
    /// <summary>How long the replica counts on its own once the store failed to grant a slice in time.</summary>
    private static readonly TimeSpan CountLocallyFor = TimeSpan.FromSeconds(1);

    private static readonly RateLimitLease Acquired = new Lease(true, null);

    private readonly Lock gate = new();
    private readonly SemaphoreSlim refill = new(1, 1);
    private readonly long slice = Math.Max(1, limits.PermitLimit / 10);
    private long window = -1;
    private long held;
    // Read outside the refill semaphore: ticks, so that a read is never torn.
    private long countLocallyUntilTicks;

    /// <summary>
    /// How long this caller has asked for nothing: since the end of the last window it asked in, and never
    /// while a slice is on its way or the local count is in use. The partitioned limiter drops (and disposes)
    /// a caller's limiter once this passes 10 s. The local count alone is no measure: it is idle whenever the
    /// store grants the slices, and a busy caller's limiter was dropped every few seconds, failing the
    /// requests in flight and throwing away the permits it held.
    /// </summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            if (refill.CurrentCount == 0 || local.IdleDuration is null)
            {
                return null;
            }

            var idle = clock.GetUtcNow() - WindowEnd(Interlocked.Read(ref window));
            return idle > TimeSpan.Zero ? idle : null;
        }
    }

    public override RateLimiterStatistics? GetStatistics() => local.GetStatistics();

    // Spends a permit this replica already holds; otherwise the middleware goes on to AcquireAsyncCore.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        TrySpend(permitCount, CurrentWindow()) ? Acquired : new Lease(false, null);

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var current = CurrentWindow();
        if (TrySpend(permitCount, current))
        {
            return Acquired;
        }

        // After the store failed to answer, the replica counts on its own for a moment rather than make each
        // request wait to find the store still away; and no request waits on another's slice for longer
        // than it would wait on the store.
        if (clock.GetUtcNow().UtcTicks < Volatile.Read(ref countLocallyUntilTicks) || !await refill.WaitAsync(limits.StoreTimeout, cancellationToken))
        {
            return await local.AcquireAsync(permitCount, cancellationToken);
        }

        try
        {
            // A window can end while its slice is on the way; the permits it brings belong to that window, so
            // the request then asks once more, for the window it is now in.
            for (var attempt = 0; ; attempt++)
            {
                // Another request of this caller may have taken a slice while this one waited.
                if (TrySpend(permitCount, current))
                {
                    return Acquired;
                }

                var granted = await TakeSliceAsync(current).WaitAsync(limits.StoreTimeout, cancellationToken);
                lock (gate)
                {
                    if (window <= current)
                    {
                        (window, held) = window < current ? (current, granted) : (window, held + granted);
                    }
                }

                if (TrySpend(permitCount, current))
                {
                    return Acquired;
                }

                var now = CurrentWindow();
                if (now == current || attempt > 0)
                {
                    return new Lease(false, WindowEnd(current) - clock.GetUtcNow());
                }

                current = now;
            }
        }
        catch (Exception exception) when (StoreUnavailableException.From(exception) is not null)
        {
            Volatile.Write(ref countLocallyUntilTicks, (clock.GetUtcNow() + CountLocallyFor).UtcTicks);
            return await local.AcquireAsync(permitCount, cancellationToken);
        }
        finally
        {
            refill.Release();
        }
    }

    private bool TrySpend(int permitCount, long current)
    {
        lock (gate)
        {
            // A request that read the clock just before a window ended spends from the window that is.
            if (window < current)
            {
                (window, held) = (current, 0);
            }

            if (held < permitCount)
            {
                return false;
            }

            held -= permitCount;
            return true;
        }
    }

    /// <summary>Where slices come from: the store, unless a test stands in for it.</summary>
    internal Func<long, Task<long>>? SliceSource { get; init; }

    private Task<long> TakeSliceAsync(long current) => SliceSource?.Invoke(current) ?? TakeSliceFromStoreAsync(current);

    private async Task<long> TakeSliceFromStoreAsync(long current) =>
        (long)await redis.GetDatabase().ScriptEvaluateAsync(TakePermitsScript,
            [RateLimitWindow(caller, current)], [slice, limits.PermitLimit, (long)limits.Window.TotalMilliseconds + 1000]);

    private long CurrentWindow() => clock.GetUtcNow().ToUnixTimeMilliseconds() / (long)limits.Window.TotalMilliseconds;

    private DateTimeOffset WindowEnd(long current) =>
        DateTimeOffset.FromUnixTimeMilliseconds((current + 1) * (long)limits.Window.TotalMilliseconds);

    // The refill semaphore is left to the collector: it has no wait handle to free, and a request still
    // inside AcquireAsyncCore must be able to release it.
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            local.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore() => await local.DisposeAsync();

    private sealed class Lease(bool isAcquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => isAcquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }

    /// <summary>
    /// Grants up to a slice of a caller's permits in one window, as many as are left under the limit; answers
    /// how many it granted. The counter expires shortly after its window.
    /// </summary>
    private const string TakePermitsScript =
        """
        local counter = KEYS[1]
        local slice, limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
        local used = tonumber(redis.call('GET', counter) or '0')
        local granted = math.min(slice, limit - used)
        if granted <= 0 then return 0 end
        redis.call('INCRBY', counter, granted)
        redis.call('PEXPIRE', counter, ttl)
        return granted
        """;

    /// <summary>The count of permits granted to <paramref name="caller"/> in the rate-limit window numbered <paramref name="window"/>.</summary>
    private static RedisKey RateLimitWindow(string caller, long window) => $"users:rate:{caller}:{window}";
}
