using Microsoft.AspNetCore.OutputCaching;
using Polly;
using UserService.Users.Store;

namespace UserService.Users.Caching;

/// <summary>
/// The output cache's Redis store, through the store's breaker and held to a bound of its own. A lookup
/// or a storing that fails is not the request's failure (the output cache middleware takes a failed lookup
/// for a miss, and a cached answer that cannot be kept is let go), but it is time the request waits: a
/// short bound here leaves the page read its full <see cref="StoreResilience.CommandTimeout"/> within the
/// 2 s a caller waits at most.
/// </summary>
internal sealed class BoundedOutputCacheStore(IOutputCacheStore inner, ResiliencePipeline pipeline, ILogger<BoundedOutputCacheStore> logger)
    : IOutputCacheStore
{
    /// <summary>A lookup or a storing takes a millisecond or two; one that takes longer is not worth waiting for.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(250);

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) =>
        await pipeline.CallStoreAsync(() => inner.GetAsync(key, cancellationToken).AsTask().WaitAsync(Timeout, cancellationToken));

    public async ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.CallStoreAsync(async () =>
            {
                await inner.SetAsync(key, value, tags, validFor, cancellationToken).AsTask().WaitAsync(Timeout, cancellationToken);
                return true;
            });
        }
        catch (StoreUnavailableException exception)
        {
            logger.CachedAnswerNotKept(exception);
        }
    }

    public async ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken) =>
        await pipeline.CallStoreAsync(async () =>
        {
            await inner.EvictByTagAsync(tag, cancellationToken);
            return true;
        });
}
