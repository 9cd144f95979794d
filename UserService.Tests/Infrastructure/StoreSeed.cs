using System.Text.Json;
using StackExchange.Redis;
using UserService.Users;
using UserService.Users.Store;

namespace UserService.Tests.Infrastructure;

/// <summary>Users written straight into a store, in the current layout or in the one before it.</summary>
public static class StoreSeed
{
    /// <summary>User <paramref name="id"/> of a seed: <c>seed-{id}</c>, with an email to match.</summary>
    public static User User(long id) => new(id, $"seed-{id}", $"seed-{id}@example.com", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 1);

    public static byte[] Document(User user) => JsonSerializer.SerializeToUtf8Bytes(user, UsersJsonContext.Default.User);

    /// <summary>Users 1 to <paramref name="users"/> in <see cref="StoreLayout"/>, as the service's creates would have left them.</summary>
    public static async Task SeedAsync(IDatabase database, int users)
    {
        await StoreLayout.LoadAsync(database, [.. Enumerable.Range(1, users).Select(id => User(id)).Select(user => (user.Id, user.Username, user.Email, (RedisValue)Document(user)))]);
        await database.StringSetAsync(StoreLayout.NextId, users);
    }

    /// <summary>One more user, with the next id, in <see cref="StoreLayout"/>, as a create would have left it.</summary>
    public static async Task<User> AddUserAsync(IDatabase database)
    {
        var user = User(await database.StringIncrementAsync(StoreLayout.NextId));
        await StoreLayout.LoadAsync(database, [(user.Id, user.Username, user.Email, Document(user))]);
        return user;
    }

    /// <summary>Users 1 to <paramref name="users"/> in <see cref="LegacyLayout"/>, as an earlier version's creates left them.</summary>
    public static async Task SeedLegacyAsync(IDatabase database, int users)
    {
        var writes = new List<Task>();
        foreach (var user in Enumerable.Range(1, users).Select(id => User(id)))
        {
            writes.Add(database.HashSetAsync(LegacyLayout.Data, user.Id, Document(user)));
            writes.Add(database.SortedSetAddAsync(LegacyLayout.Order, user.Id, user.Id));
            writes.Add(database.HashSetAsync(LegacyLayout.ByUsername, user.Username, user.Id));
            writes.Add(database.HashSetAsync(LegacyLayout.ByEmail, user.Email, user.Id));
        }

        writes.Add(database.StringSetAsync(StoreLayout.NextId, users));
        await Task.WhenAll(writes);
    }

    /// <summary>A claim of a value for user <paramref name="id"/>, set at store time <paramref name="at"/> (milliseconds; 0: long ago).</summary>
    public static string Claim(long id, long at = 0) => Users.Store.Claim.Format(id, at, "test");
}
