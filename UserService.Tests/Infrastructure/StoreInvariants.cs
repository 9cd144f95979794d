using System.Text.Json;
using StackExchange.Redis;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// Checks the store's indexes against its documents: every index entry points at a user that points back,
/// and every user is indexed and ordered exactly once. Knows the key layout that <c>UserStore</c> documents.
/// </summary>
public static class StoreInvariants
{
    public static async Task AssertConsistentAsync(string connectionString)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var database = redis.GetDatabase();

        var documents = (await database.HashGetAllAsync("users:data")).ToDictionary(
            entry => (long)entry.Name,
            entry => JsonDocument.Parse((string)entry.Value!).RootElement);
        var order = (await database.SortedSetRangeByRankAsync("users:order")).Select(id => (long)id).ToList();
        var byUsername = (await database.HashGetAllAsync("users:by-username")).ToDictionary(e => (string)e.Name!, e => (long)e.Value);
        var byEmail = (await database.HashGetAllAsync("users:by-email")).ToDictionary(e => (string)e.Name!, e => (long)e.Value);

        Assert.Equal(documents.Keys.Order(), order);
        AssertIndexPointsBack(byUsername, documents, "username");
        AssertIndexPointsBack(byEmail, documents, "email");
    }

    private static void AssertIndexPointsBack(Dictionary<string, long> index, Dictionary<long, JsonElement> documents, string field)
    {
        foreach (var (value, id) in index)
        {
            Assert.True(documents.TryGetValue(id, out var document), $"The {field} index has '{value}' for user {id}, who does not exist.");
            Assert.Equal(value, document.GetProperty(field).GetString()!.ToLowerInvariant());
        }

        Assert.Equal(documents.Count, index.Count);
    }
}
