using System.Globalization;
using Microsoft.AspNetCore.OutputCaching;

using UserService.Users.Store;

namespace UserService.Users.Caching;

/// <summary>
/// Output caching for the user reads, shared by every replica through Redis.
/// <para>
/// Freshness: each cached answer is keyed by the store's write generation, which every write bumps in the
/// same script that changes the data. A read that began before a write and stores its answer after the
/// write's eviction therefore stores it under a generation nobody asks for again: a read that begins after
/// a write was acknowledged never gets an older answer. Writes also evict the <see cref="Tag"/>, so that
/// the unreachable entries do not linger until they expire.
/// </para>
/// <para>
/// Unlike the default policy, requests with an Authorization header are cached: authorization runs before
/// the cache, and the answer does not depend on who asked.
/// </para>
/// </summary>
public sealed class UsersCachePolicy : IOutputCachePolicy
{
    public const string Name = "Users";
    public const string Tag = "users";

    private static readonly TimeSpan Expiration = TimeSpan.FromMinutes(5);

    async ValueTask IOutputCachePolicy.CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var method = context.HttpContext.Request.Method;
        var cacheable = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

        context.EnableOutputCaching = true;
        context.AllowCacheLookup = cacheable;
        context.AllowCacheStorage = cacheable;
        // No locking: a request that waited on another's miss would run its own store calls after that
        // one's, and could wait through two store timeouts, past the 2 s a caller waits at most.
        context.AllowLocking = false;
        context.ResponseExpirationTimeSpan = Expiration;
        context.CacheVaryByRules.QueryKeys = "*";
        context.Tags.Add(Tag);

        if (cacheable)
        {
            var store = context.HttpContext.RequestServices.GetRequiredService<UserStore>();
            var generation = await store.GenerationAsync();
            context.CacheVaryByRules.VaryByValues["generation"] = generation.ToString(CultureInfo.InvariantCulture);
        }
    }

    ValueTask IOutputCachePolicy.ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation) => ValueTask.CompletedTask;

    ValueTask IOutputCachePolicy.ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var response = context.HttpContext.Response;
        // Only successful reads: a 404 for an id about to be created must not outlive the create.
        if (response.StatusCode != StatusCodes.Status200OK || response.Headers.SetCookie.Count > 0)
        {
            context.AllowCacheStorage = false;
        }

        return ValueTask.CompletedTask;
    }
}
