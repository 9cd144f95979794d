using System.Threading.RateLimiting;
using UserService.Users.Store;

namespace UserService.Infrastructure;

/// <summary>
/// One caller's limit, counted in the store so that every replica shares it. When the store does not
/// answer within <see cref="StoreTimeout"/>, this replica counts on its own instead: an outage of the store
/// never turns into refusals, nor into errors, from the limiter, and leaves the request its time for the
/// store calls that matter. The limiter's calls stay out of the store's breaker, which speaks for the users.
/// </summary>
internal sealed class SharedRateLimiter(RateLimiter shared, RateLimiter local) : RateLimiter
{
    /// <summary>A count takes a millisecond or two; one that takes longer is not worth the request's time.</summary>
    public static readonly TimeSpan StoreTimeout = TimeSpan.FromMilliseconds(100);

    // The local count is the one that says when this caller's partition has been idle long enough to drop.
    public override TimeSpan? IdleDuration => local.IdleDuration;

    public override RateLimiterStatistics? GetStatistics() => shared.GetStatistics();

    // The store is only asked asynchronously; the middleware then waits on AcquireAsyncCore.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => shared.AttemptAcquire(permitCount);

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        try
        {
            return await shared.AcquireAsync(permitCount, cancellationToken).AsTask().WaitAsync(StoreTimeout, cancellationToken);
        }
        catch (Exception exception) when (StoreUnavailableException.From(exception) is not null)
        {
            return await local.AcquireAsync(permitCount, cancellationToken);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            shared.Dispose();
            local.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await shared.DisposeAsync();
        await local.DisposeAsync();
    }
}
