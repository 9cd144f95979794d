using System.Text.Json;
using StackExchange.Redis;

namespace UserService.Users;

/// <summary>
/// Users in Redis: each user as JSON in one hash (field = id), an ordered set of ids for paging,
/// and a counter that hands out ids. This class is the one place that knows the key layout.
/// </summary>
public sealed class UserStore(IConnectionMultiplexer redis)
{
    private static readonly RedisKey NextIdKey = "users:next-id";
    private static readonly RedisKey UsersKey = "users:by-id";
    private static readonly RedisKey OrderKey = "users:order";

    // One round trip for a page: the ids after the cursor, then their documents.
    private static readonly LuaScript PageScript = LuaScript.Prepare(
        """
        local ids = redis.call('ZRANGEBYSCORE', @order, '(' .. @after, '+inf', 'LIMIT', 0, @limit)
        if #ids == 0 then return {} end
        return redis.call('HMGET', @users, unpack(ids))
        """);

    private IDatabase Database => redis.GetDatabase();

    public async Task<User?> FindAsync(long id)
    {
        var json = await Database.HashGetAsync(UsersKey, id);
        return json.IsNull ? null : Deserialize(json);
    }

    public async Task<IReadOnlyList<User>> ListAsync(long after, int limit)
    {
        var result = await Database.ScriptEvaluateAsync(PageScript, new { order = OrderKey, users = UsersKey, after, limit });
        var documents = (RedisValue[]?)result ?? [];
        return [.. documents.Where(static json => !json.IsNull).Select(Deserialize)];
    }

    public async Task<User> CreateAsync(string username, string email)
    {
        var id = await Database.StringIncrementAsync(NextIdKey);
        var user = new User(id, username, email);

        // The document and its place in the order land together or not at all.
        var transaction = Database.CreateTransaction();
        var stored = transaction.HashSetAsync(UsersKey, id, JsonSerializer.SerializeToUtf8Bytes(user, UsersJsonContext.Default.User));
        var ordered = transaction.SortedSetAddAsync(OrderKey, id, id);
        await transaction.ExecuteAsync();
        await Task.WhenAll(stored, ordered);

        return user;
    }

    private static User Deserialize(RedisValue json) =>
        JsonSerializer.Deserialize((byte[])json!, UsersJsonContext.Default.User)
        ?? throw new InvalidDataException("A stored user document is null.");
}
