using System.Text.Json;
using StackExchange.Redis;
using UserService.Users.Store;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// Checks the store against the invariants of <see cref="StoreLayout"/>: every user is in its own bucket and
/// ordered exactly once, and its username and email are claimed by it, so no two users share one. A store
/// just <c>repaired</c> also has no leftovers: no claim names a user who does not hold its value. Writes cut
/// short, and writes of one user that race for one value, leave such claims, which readers ignore and a
/// repair or another user's write removes once they are old enough.
/// </summary>
public static class StoreInvariants
{
    public static async Task AssertConsistentAsync(string connectionString, bool repaired = false)
    {
        var violations = await ViolationsAsync(connectionString, repaired);
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    /// <summary>What is wrong with the store, one line per broken invariant; empty when nothing is.</summary>
    public static async Task<IReadOnlyList<string>> ViolationsAsync(string connectionString, bool repaired = false)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var database = redis.GetDatabase();
        var violations = new List<string>();

        var documents = new Dictionary<long, JsonElement>();
        for (var bucket = 0; bucket < StoreLayout.Buckets; bucket++)
        {
            var stored = (await database.HashGetAllAsync(StoreLayout.Data(bucket))).ToDictionary(
                entry => (long)entry.Name, entry => JsonDocument.Parse((string)entry.Value!).RootElement);
            var order = (await database.SortedSetRangeByRankAsync(StoreLayout.Order(bucket))).Select(id => (long)id).ToHashSet();
            violations.AddRange(order.Except(stored.Keys).Select(id => $"User {id} is ordered but does not exist."));
            violations.AddRange(stored.Keys.Except(order).Select(id => $"User {id} exists but is not ordered."));
            violations.AddRange(stored.Keys.Where(id => StoreLayout.BucketOf(id) != bucket).Select(id => $"User {id} is in bucket {bucket}."));
            foreach (var (id, document) in stored)
            {
                documents[id] = document;
            }
        }

        foreach (var (field, claimKey, pattern) in new[]
        {
            ("username", (Func<string, RedisKey>)StoreLayout.UsernameClaim, StoreLayout.UsernameClaims),
            ("email", StoreLayout.EmailClaim, StoreLayout.EmailClaims),
        })
        {
            foreach (var (id, document) in documents)
            {
                var value = document.GetProperty(field).GetString()!.ToLowerInvariant();
                var owner = Claim.Parse(await database.StringGetAsync(claimKey(value)));
                if (owner?.Id != id)
                {
                    violations.Add($"User {id}'s {field} '{value}' is claimed by {owner?.Id.ToString() ?? "nobody"}.");
                }
            }

            if (!repaired)
            {
                continue;
            }

            foreach (var key in (await KeysAsync(redis, database, pattern)).Distinct())
            {
                var value = key[(pattern.Length - 1)..];
                var owner = Claim.Parse(await database.StringGetAsync(key));
                if (owner is null || !documents.TryGetValue(owner.Value.Id, out var document) || document.GetProperty(field).GetString()!.ToLowerInvariant() != value)
                {
                    violations.Add($"The {field} '{value}' is claimed for user {owner?.Id.ToString() ?? "?"}, who does not hold it.");
                }
            }
        }

        return violations;
    }

    /// <summary>Every key that matches <paramref name="pattern"/>: on each primary of a cluster, or in the database of a single node.</summary>
    private static async Task<List<string>> KeysAsync(ConnectionMultiplexer redis, IDatabase database, string pattern)
    {
        var keys = new List<string>();
        var primaries = redis.GetServers().Where(server => server.ServerType == ServerType.Cluster && !server.IsReplica).ToList();
        if (primaries.Count > 0)
        {
            foreach (var server in primaries)
            {
                await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000))
                {
                    keys.Add((string)key!);
                }
            }

            return keys;
        }

        long cursor = 0;
        do
        {
            var page = (RedisResult[])(await database.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", 1000))!;
            cursor = (long)page[0];
            keys.AddRange(((RedisValue[])page[1]!).Select(key => (string)key!));
        }
        while (cursor != 0);
        return keys;
    }
}
