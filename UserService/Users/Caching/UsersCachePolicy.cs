using System.Globalization;
using Microsoft.AspNetCore.OutputCaching;
using UserService.Users.Store;

namespace UserService.Users.Caching;

/// <summary>
/// Output caching for the user reads, shared by every replica through Redis.
/// <para>
/// Freshness: each cached answer is keyed by the store's write generation, which every write sets anew
/// after it changed the data and before it is acknowledged, on a replica too (a write whose generation
/// cannot be set answers 503). A read that began before a write and stores its answer after it therefore
/// stores it under a generation nobody asks for again: a read that begins after a write was acknowledged
/// never gets an older answer. Writes also evict the <see cref="Tag"/>, so that the unreachable entries do
/// not linger until they expire.
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

    /// <summary>The longest a cached answer lives.</summary>
    public static readonly TimeSpan Expiration = TimeSpan.FromMinutes(5);

    /// <summary>What the list handler reads from the query, and whether it reads it as a number.</summary>
    private static readonly (string Name, bool Numeric)[] Parameters = [("after", true), ("limit", true), ("username", false), ("email", false)];

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
        context.Tags.Add(Tag);

        // The key holds what the answer depends on, written one way, and nothing a caller could vary freely:
        // not the Host header, not parameters the handler ignores, not "limit=0100" beside "limit=100".
        context.CacheVaryByRules.VaryByHost = false;
        if (!cacheable || !TryVaryByQuery(context.HttpContext.Request.Query, context.CacheVaryByRules.VaryByValues))
        {
            // A query the handler refuses gets a 400, which is not kept.
            context.AllowCacheLookup = context.AllowCacheStorage = cacheable = false;
        }

        if (cacheable)
        {
            var store = context.HttpContext.RequestServices.GetRequiredService<UserStore>();
            var generation = await store.GenerationAsync();
            context.CacheVaryByRules.VaryByValues["generation"] = generation;
        }
    }

    /// <summary>
    /// Adds the query as the handler reads it to <paramref name="key"/>: <c>after</c> and <c>limit</c> as
    /// numbers, <c>username</c> and <c>email</c> lowercased (they are ASCII, or refused). False when a
    /// parameter is repeated or is not a number.
    /// </summary>
    private static bool TryVaryByQuery(IQueryCollection query, IDictionary<string, string> key)
    {
        foreach (var (name, numeric) in Parameters)
        {
            var values = query[name];
            if (values.Count == 0)
            {
                continue;
            }

            if (values.Count > 1)
            {
                return false;
            }

            if (!numeric)
            {
                key[name] = values[0]!.ToLowerInvariant();
            }
            else if (long.TryParse(values[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
            {
                key[name] = number.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    ValueTask IOutputCachePolicy.ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation) => ValueTask.CompletedTask;

    ValueTask IOutputCachePolicy.ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var response = context.HttpContext.Response;
        // Only successful reads: a refusal is cheap to give again, and not worth a place in the cache.
        if (response.StatusCode != StatusCodes.Status200OK || response.Headers.SetCookie.Count > 0)
        {
            context.AllowCacheStorage = false;
        }

        return ValueTask.CompletedTask;
    }
}
