using System.Text.Json;
using Polly;
using Polly.Registry;
using StackExchange.Redis;

namespace UserService.Users;

public enum WriteOutcome
{
    Done,
    NotFound,
    UsernameTaken,
    EmailTaken,
    VersionMismatch,
    TooMuchContention,
}

public readonly record struct WriteResult(WriteOutcome Outcome, User? User = null);

public sealed record UserPage(IReadOnlyList<User> Users, bool HasMore);

/// <summary>The document kept per user; the id is the field it is kept under.</summary>
internal sealed record StoredUser(
    string Username,
    string Email,
    string? DisplayName,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Version)
{
    public User WithId(long id) => new(id, Username, Email, DisplayName, CreatedAt, UpdatedAt, Version);
}

/// <summary>
/// Users in Redis, and the one place that knows the key layout:
/// <list type="bullet">
/// <item><c>users:data</c>, a hash from id to the user's JSON document;</item>
/// <item><c>users:order</c>, a sorted set of ids, for keyset pagination;</item>
/// <item><c>users:by-username</c> and <c>users:by-email</c>, hashes from the lowercased value to the id;</item>
/// <item><c>users:next-id</c>, the id counter; <c>users:generation</c>, bumped by every write.</item>
/// </list>
/// Every write is one Lua script that changes the document and its indexes together, so no reader ever
/// sees an index entry without its user. Scripts name every key they touch (Garnet locks exactly those).
/// Updates and deletes are optimistic: the script applies only if the document is still the one read.
/// <para>
/// A crash can still cut a script short: Garnet logs and replays a script's writes one by one. So each
/// script writes in an order where any prefix only leaves index entries that point at no user, or at a user
/// that does not point back: readers ignore those, and <see cref="RepairAsync"/> removes them.
/// </para>
/// </summary>
public sealed partial class UserStore(IConnectionMultiplexer redis, TimeProvider clock, UsersTelemetry telemetry, ResiliencePipelineProvider<string> resilience)
{
    private const int MaxWriteAttempts = 16;

    private static readonly RedisKey DataKey = "users:data";
    private static readonly RedisKey OrderKey = "users:order";
    private static readonly RedisKey UsernameIndexKey = "users:by-username";
    private static readonly RedisKey EmailIndexKey = "users:by-email";
    private static readonly RedisKey NextIdKey = "users:next-id";
    private static readonly RedisKey GenerationKey = "users:generation";

    private const long UsernameTakenCode = -1;
    private const long EmailTakenCode = -2;
    private const long ChangedCode = -3;
    private const long GoneCode = -4;

    private static readonly LuaScript PageScript = LuaScript.Prepare(
        """
        local ids = redis.call('ZRANGEBYSCORE', @order, '(' .. @after, '+inf', 'LIMIT', 0, @count)
        if #ids == 0 then return ids end
        local documents = redis.call('HMGET', @data, unpack(ids))
        local page = {}
        for i = 1, #ids do
            if documents[i] then
                page[#page + 1] = ids[i]
                page[#page + 1] = documents[i]
            end
        end
        return page
        """);

    private static readonly LuaScript LookupScript = LuaScript.Prepare(
        """
        local id = redis.call('HGET', @index, @value)
        if not id then return {} end
        return { id, redis.call('HGET', @data, id) }
        """);

    // An entry whose user is gone was left by a write that a crash cut short: the value is free.
    private static readonly LuaScript CreateScript = LuaScript.Prepare(
        """
        local owner = redis.call('HGET', @usernames, @username)
        if owner and redis.call('HEXISTS', @data, owner) == 1 then return -1 end
        owner = redis.call('HGET', @emails, @email)
        if owner and redis.call('HEXISTS', @data, owner) == 1 then return -2 end
        redis.call('INCR', @generation)
        local id = redis.call('INCR', @nextId)
        redis.call('ZADD', @order, id, id)
        redis.call('HSET', @usernames, @username, id)
        redis.call('HSET', @emails, @email, id)
        redis.call('HSET', @data, id, @document)
        return id
        """);

    private static readonly LuaScript UpdateScript = LuaScript.Prepare(
        """
        local current = redis.call('HGET', @data, @id)
        if not current then return -4 end
        if current ~= @expected then return -3 end
        local renamed = @newUsername ~= @oldUsername
        local readdressed = @newEmail ~= @oldEmail
        if renamed then
            local owner = redis.call('HGET', @usernames, @newUsername)
            if owner and owner ~= @id and redis.call('HEXISTS', @data, owner) == 1 then return -1 end
        end
        if readdressed then
            local owner = redis.call('HGET', @emails, @newEmail)
            if owner and owner ~= @id and redis.call('HEXISTS', @data, owner) == 1 then return -2 end
        end
        redis.call('INCR', @generation)
        if renamed then redis.call('HSET', @usernames, @newUsername, @id) end
        if readdressed then redis.call('HSET', @emails, @newEmail, @id) end
        redis.call('HSET', @data, @id, @document)
        if renamed then redis.call('HDEL', @usernames, @oldUsername) end
        if readdressed then redis.call('HDEL', @emails, @oldEmail) end
        return 1
        """);

    private static readonly LuaScript DeleteScript = LuaScript.Prepare(
        """
        local current = redis.call('HGET', @data, @id)
        if not current then return -4 end
        if current ~= @expected then return -3 end
        redis.call('INCR', @generation)
        redis.call('HDEL', @data, @id)
        redis.call('ZREM', @order, @id)
        redis.call('HDEL', @usernames, @username)
        redis.call('HDEL', @emails, @email)
        return 1
        """);

    private readonly ResiliencePipeline pipeline = resilience.GetPipeline(StoreResilience.PipelineName);

    /// <summary>Every Redis call goes through the store's pipeline: a timeout, and a circuit breaker that fails fast during an outage.</summary>
    private ValueTask<T> CallAsync<T>(Func<IDatabase, Task<T>> call) =>
        pipeline.ExecuteAsync(static async (state, _) => await state.call(state.database), (call, database: redis.GetDatabase()));

    public async Task<User?> FindAsync(long id)
    {
        using var operation = telemetry.StartStoreOperation("find");
        var document = await CallAsync(database => database.HashGetAsync(DataKey, id));
        return document.IsNull ? null : Deserialize(document).WithId(id);
    }

    public async Task<User?> FindByUsernameAsync(string username) =>
        await LookupAsync("find-by-username", UsernameIndexKey, IndexValue(username), static user => user.Username);

    public async Task<User?> FindByEmailAsync(string email) =>
        await LookupAsync("find-by-email", EmailIndexKey, IndexValue(email), static user => user.Email);

    /// <summary>Up to <paramref name="limit"/> users with an id above <paramref name="after"/>, in id order.</summary>
    public async Task<UserPage> ListAsync(long after, int limit)
    {
        using var operation = telemetry.StartStoreOperation("list");
        // One more than asked tells whether another page follows, without a second round trip.
        var result = await CallAsync(database => database.ScriptEvaluateAsync(PageScript, new { order = OrderKey, data = DataKey, after, count = limit + 1 }));

        var flat = (RedisResult[])result!;
        var users = new List<User>(Math.Min(limit, flat.Length / 2));
        for (var i = 0; i + 1 < flat.Length && users.Count < limit; i += 2)
        {
            users.Add(Deserialize((RedisValue)flat[i + 1]).WithId((long)flat[i]));
        }

        return new UserPage(users, HasMore: flat.Length / 2 > limit);
    }

    /// <summary>Whether any user was ever created: the seed only goes into a store that never had one.</summary>
    public async Task<bool> IsEmptyAsync() => !await CallAsync(database => database.KeyExistsAsync(NextIdKey));

    public async Task<WriteResult> CreateAsync(UserFields fields)
    {
        using var operation = telemetry.StartStoreOperation("create");
        var now = clock.GetUtcNow();
        var document = new StoredUser(fields.Username, fields.Email, fields.DisplayName, now, now, Version: 1);

        var id = (long)await CallAsync(database => database.ScriptEvaluateAsync(CreateScript, new
        {
            usernames = UsernameIndexKey,
            emails = EmailIndexKey,
            nextId = NextIdKey,
            data = DataKey,
            order = OrderKey,
            generation = GenerationKey,
            username = IndexValue(fields.Username),
            email = IndexValue(fields.Email),
            document = Serialize(document),
        }));

        return id switch
        {
            UsernameTakenCode => new(WriteOutcome.UsernameTaken),
            EmailTakenCode => new(WriteOutcome.EmailTaken),
            _ => new(WriteOutcome.Done, document.WithId(id)),
        };
    }

    /// <summary>
    /// Replaces the mutable fields. With <paramref name="expectedVersion"/>, only the user at that version is
    /// replaced; without it, the write is retried on top of whatever a concurrent writer left.
    /// </summary>
    public async Task<WriteResult> UpdateAsync(long id, UserFields fields, long? expectedVersion)
    {
        using var operation = telemetry.StartStoreOperation("update");
        return await WriteOptimisticallyAsync(id, expectedVersion, async (current, stored) =>
        {
            var replacement = stored with
            {
                Username = fields.Username,
                Email = fields.Email,
                DisplayName = fields.DisplayName,
                UpdatedAt = clock.GetUtcNow(),
                Version = stored.Version + 1,
            };

            var code = (long)await CallAsync(database => database.ScriptEvaluateAsync(UpdateScript, new
            {
                data = DataKey,
                usernames = UsernameIndexKey,
                emails = EmailIndexKey,
                generation = GenerationKey,
                id,
                expected = current,
                document = Serialize(replacement),
                oldUsername = IndexValue(stored.Username),
                newUsername = IndexValue(fields.Username),
                oldEmail = IndexValue(stored.Email),
                newEmail = IndexValue(fields.Email),
            }));

            return code switch
            {
                UsernameTakenCode => new WriteResult(WriteOutcome.UsernameTaken),
                EmailTakenCode => new WriteResult(WriteOutcome.EmailTaken),
                _ => Applied(code, replacement.WithId(id)),
            };
        });
    }

    public async Task<WriteResult> DeleteAsync(long id, long? expectedVersion)
    {
        using var operation = telemetry.StartStoreOperation("delete");
        return await WriteOptimisticallyAsync(id, expectedVersion, async (current, stored) =>
        {
            var code = (long)await CallAsync(database => database.ScriptEvaluateAsync(DeleteScript, new
            {
                data = DataKey,
                order = OrderKey,
                usernames = UsernameIndexKey,
                emails = EmailIndexKey,
                generation = GenerationKey,
                id,
                expected = current,
                username = IndexValue(stored.Username),
                email = IndexValue(stored.Email),
            }));

            return Applied(code, stored.WithId(id));
        });
    }

    /// <summary>
    /// Reads the user, checks the version the caller expects, and hands the document to
    /// <paramref name="write"/>, whose script applies only if the document is still the one read. A write
    /// that finds it changed (null) starts over from a fresh read.
    /// </summary>
    private async Task<WriteResult> WriteOptimisticallyAsync(long id, long? expectedVersion, Func<RedisValue, StoredUser, Task<WriteResult?>> write)
    {
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            var current = await CallAsync(database => database.HashGetAsync(DataKey, id));
            if (current.IsNull)
            {
                return new(WriteOutcome.NotFound);
            }

            var stored = Deserialize(current);
            if (expectedVersion is { } expected && stored.Version != expected)
            {
                return new(WriteOutcome.VersionMismatch, stored.WithId(id));
            }

            if (await write(current, stored) is { } result)
            {
                return result;
            }
        }

        return new(WriteOutcome.TooMuchContention);
    }

    /// <summary>What a conditional script's answer means: applied, gone, or changed since it was read (null).</summary>
    private static WriteResult? Applied(long code, User user) => code switch
    {
        GoneCode => new WriteResult(WriteOutcome.NotFound),
        ChangedCode => null,
        _ => new WriteResult(WriteOutcome.Done, user),
    };

    /// <summary>A number that changes whenever any user changes: cached reads are keyed by it.</summary>
    public async Task<long> GenerationAsync() => (long?)await CallAsync(database => database.StringGetAsync(GenerationKey)) ?? 0;

    private async Task<User?> LookupAsync(string operationName, RedisKey index, string value, Func<StoredUser, string> indexed)
    {
        using var operation = telemetry.StartStoreOperation(operationName);
        var result = (RedisResult[])(await CallAsync(database => database.ScriptEvaluateAsync(LookupScript, new { index, data = DataKey, value })))!;
        if (result.Length != 2 || result[1].IsNull)
        {
            return null;
        }

        // An entry left by a rename that a crash cut short points at a user who no longer has the value.
        var user = Deserialize((RedisValue)result[1]);
        return IndexValue(indexed(user)) == value ? user.WithId((long)result[0]) : null;
    }

    // Uniqueness ignores case: the indexes hold the lowercased value.
    private static string IndexValue(string value) => value.ToLowerInvariant();

    private static byte[] Serialize(StoredUser user) => JsonSerializer.SerializeToUtf8Bytes(user, UsersJsonContext.Default.StoredUser);

    private static StoredUser Deserialize(RedisValue json) =>
        JsonSerializer.Deserialize((byte[])json!, UsersJsonContext.Default.StoredUser)
        ?? throw new InvalidDataException("A stored user document is null.");
}
