using Microsoft.AspNetCore.OutputCaching;

using UserService.Infrastructure;

namespace UserService.Users.Caching;

/// <summary>
/// Frees the cached reads that writes made unreachable. Freshness never depends on it (cached reads are
/// keyed by the write generation), so a write asks for it and answers without waiting, and a burst of
/// writes costs one eviction at a time rather than one each, all over the same entries.
/// </summary>
public sealed class CachedReadsEviction(IOutputCacheStore cache, ILogger<CachedReadsEviction> logger) : CoalescedWork(logger)
{
    protected override async Task RunAsync(CancellationToken stoppingToken) =>
        await cache.EvictByTagAsync(UsersCachePolicy.Tag, stoppingToken);
}
