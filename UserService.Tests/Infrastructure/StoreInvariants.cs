using System.Text.Json;
using StackExchange.Redis;
using UserService.Users.Store;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// Checks the store's indexes against its documents: every index entry points at a user that points back,
/// and every user is indexed and ordered exactly once. Reads the store through <see cref="StoreLayout"/>.
/// </summary>
public static class StoreInvariants
{
    public static async Task AssertConsistentAsync(string connectionString) =>
        Assert.Empty(await ViolationsAsync(connectionString));

    /// <summary>What is wrong with the store, one line per broken invariant; empty when nothing is.</summary>
    public static async Task<IReadOnlyList<string>> ViolationsAsync(string connectionString)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var database = redis.GetDatabase();

        var documents = (await database.HashGetAllAsync(StoreLayout.Data)).ToDictionary(
            entry => (long)entry.Name,
            entry => JsonDocument.Parse((string)entry.Value!).RootElement);
        var order = (await database.SortedSetRangeByRankAsync(StoreLayout.Order)).Select(id => (long)id).ToHashSet();
        var byUsername = (await database.HashGetAllAsync(StoreLayout.ByUsername)).ToDictionary(e => (string)e.Name!, e => (long)e.Value);
        var byEmail = (await database.HashGetAllAsync(StoreLayout.ByEmail)).ToDictionary(e => (string)e.Name!, e => (long)e.Value);

        var violations = new List<string>();
        violations.AddRange(order.Except(documents.Keys).Select(id => $"User {id} is ordered but does not exist."));
        violations.AddRange(documents.Keys.Except(order).Select(id => $"User {id} exists but is not ordered."));
        violations.AddRange(IndexViolations(byUsername, documents, "username"));
        violations.AddRange(IndexViolations(byEmail, documents, "email"));
        return violations;
    }

    private static IEnumerable<string> IndexViolations(Dictionary<string, long> index, Dictionary<long, JsonElement> documents, string field)
    {
        foreach (var (value, id) in index)
        {
            if (!documents.TryGetValue(id, out var document))
            {
                yield return $"The {field} index has '{value}' for user {id}, who does not exist.";
            }
            else if (document.GetProperty(field).GetString()!.ToLowerInvariant() != value)
            {
                yield return $"The {field} index has '{value}' for user {id}, whose {field} is '{document.GetProperty(field).GetString()}'.";
            }
        }

        var indexed = index.Values.ToHashSet();
        foreach (var id in documents.Keys.Where(id => !indexed.Contains(id)))
        {
            yield return $"User {id} is missing from the {field} index.";
        }
    }
}
