using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using UserService.Infrastructure;
using UserService.Users.Store;

namespace UserService.Users.Caching;

/// <summary>
/// The output cache's Redis store, through the store's breaker and held to a bound of its own. A lookup
/// or a storing that fails is not the request's failure (the output cache middleware takes a failed lookup
/// for a miss, and a cached answer that cannot be kept is let go), but it is time the request waits: a
/// short bound here leaves the page read its full <see cref="StoreResilience.CommandTimeout"/> within the
/// 2 s a caller waits at most.
/// <para>
/// It also bounds what the cache holds: at most <see cref="CachingOptions.MaxBytesPerWindow"/> of answers
/// are kept in each window of <see cref="Window"/>, the time an answer lives, counted in the store for
/// every replica, so at most twice that is alive at once. Past it, answers are served but not kept.
/// </para>
/// </summary>
internal sealed class BoundedOutputCacheStore(
    IOutputCacheStore inner,
    StoreBreaker breaker,
    IConnectionMultiplexer redis,
    TimeProvider clock,
    IOptions<CachingOptions> options,
    UsersTelemetry telemetry,
    ILogger<BoundedOutputCacheStore> logger)
    : IOutputCacheStore
{
    /// <summary>As long as a cached answer lives.</summary>
    public static readonly TimeSpan Window = UsersCachePolicy.Expiration;

    /// <summary>A lookup or a storing takes a millisecond or two; one that takes longer is not worth waiting for.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(100);

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var answer = await breaker.CallStoreAsync(() => inner.GetAsync(key, cancellationToken).AsTask().WaitAsync(Timeout, cancellationToken));
        telemetry.CacheLookup(hit: answer is not null);
        return answer;
    }

    public async ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken)
    {
        try
        {
            await breaker.CallStoreAsync(async () =>
            {
                if (!await TryCountAsync(value.Length).WaitAsync(Timeout, cancellationToken))
                {
                    return false;
                }

                await inner.SetAsync(key, value, tags, validFor, cancellationToken).AsTask().WaitAsync(Timeout, cancellationToken);
                return true;
            });
        }
        catch (StoreUnavailableException exception)
        {
            logger.CachedAnswerNotKept(exception);
        }
    }

    /// <summary>Counts an answer's bytes in the current window, for every replica, if they fit; says whether they did.</summary>
    private async Task<bool> TryCountAsync(long bytes)
    {
        var window = clock.GetUtcNow().ToUnixTimeMilliseconds() / (long)Window.TotalMilliseconds;
        return (long)await redis.GetDatabase().ScriptEvaluateAsync(CountCachedBytesScript,
            [CachedBytesWindow(window)], [bytes, options.Value.MaxBytesPerWindow, (long)(2 * Window).TotalMilliseconds]) == 1;
    }

    public async ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken) =>
        await breaker.CallStoreAsync(async () =>
        {
            await inner.EvictByTagAsync(tag, cancellationToken);
            return true;
        });

    /// <summary>
    /// Adds an answer's bytes to what the output cache kept in its window, unless that would pass the most a
    /// window may keep; answers 1 when it counted them, 0 when the window is full. The counter outlives the
    /// window's answers.
    /// </summary>
    private const string CountCachedBytesScript =
        """
        local counter = KEYS[1]
        local bytes, max, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
        local kept = tonumber(redis.call('GET', counter) or '0')
        if kept + bytes > max then return 0 end
        redis.call('INCRBY', counter, bytes)
        redis.call('PEXPIRE', counter, ttl)
        return 1
        """;

    /// <summary>How many bytes of answers the output cache kept in the window numbered <paramref name="window"/>.</summary>
    private static RedisKey CachedBytesWindow(long window) => $"users:cache:bytes:{window}";
}
