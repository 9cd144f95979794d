using System.Text.Json;
using Polly;
using Polly.Registry;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// Users in Redis, laid out as <see cref="StoreLayout"/> says. Updates and deletes are optimistic: the
/// script applies only if the document is still the one read.
/// </summary>
public sealed partial class UserStore(
    IConnectionMultiplexer redis, TimeProvider clock, UsersTelemetry telemetry, ResiliencePipelineProvider<string> resilience, ILogger<UserStore> logger)
{
    private readonly ResiliencePipeline pipeline = resilience.GetPipeline(StoreResilience.PipelineName);

    /// <summary>Every Redis call goes through the store's pipeline: a circuit breaker around a timeout.</summary>
    private ValueTask<T> CallAsync<T>(Func<IDatabase, Task<T>> call)
    {
        var database = redis.GetDatabase();
        return pipeline.CallStoreAsync(() => call(database));
    }

    public async Task<User?> FindAsync(long id)
    {
        using var operation = telemetry.StartStoreOperation("find");
        var document = await CallAsync(database => database.HashGetAsync(StoreLayout.Data, id));
        return document.IsNull ? null : TryRead(id, document);
    }

    public async Task<User?> FindByUsernameAsync(string username) =>
        await LookupAsync("find-by-username", StoreLayout.ByUsername, IndexValue(username), static user => user.Username);

    public async Task<User?> FindByEmailAsync(string email) =>
        await LookupAsync("find-by-email", StoreLayout.ByEmail, IndexValue(email), static user => user.Email);

    /// <summary>Up to <paramref name="limit"/> users with an id above <paramref name="after"/>, in id order.</summary>
    public async Task<UserPage> ListAsync(long after, int limit)
    {
        using var operation = telemetry.StartStoreOperation("list");
        // One more than asked tells whether another page follows, without a second round trip.
        var result = await CallAsync(database => database.ScriptEvaluateAsync(StoreLayout.Page, new { order = StoreLayout.Order, data = StoreLayout.Data, after, count = limit + 1 }));

        var flat = (RedisResult[])result!;
        var users = new List<User>(Math.Min(limit, flat.Length / 2));
        for (var i = 0; i + 1 < flat.Length && users.Count < limit; i += 2)
        {
            if (TryRead((long)flat[i], (RedisValue)flat[i + 1]) is { } user)
            {
                users.Add(user);
            }
        }

        return new UserPage(users, HasMore: flat.Length / 2 > limit);
    }

    /// <summary>Whether any user was ever created: the seed only goes into a store that never had one.</summary>
    public async Task<bool> IsEmptyAsync() => !await CallAsync(database => database.KeyExistsAsync(StoreLayout.NextId));

    /// <summary>A number that changes whenever any user changes: cached reads are keyed by it.</summary>
    public async Task<long> GenerationAsync() => (long?)await CallAsync(database => database.StringGetAsync(StoreLayout.Generation)) ?? 0;

    private async Task<User?> LookupAsync(string operationName, RedisKey index, string value, Func<User, string> indexed)
    {
        using var operation = telemetry.StartStoreOperation(operationName);
        var result = (RedisResult[])(await CallAsync(database => database.ScriptEvaluateAsync(StoreLayout.Lookup, new { index, data = StoreLayout.Data, value })))!;
        if (result.Length != 2 || result[1].IsNull)
        {
            return null;
        }

        // An entry left by a rename that a crash cut short points at a user who no longer has the value.
        return TryRead((long)result[0], (RedisValue)result[1]) is { } user && IndexValue(indexed(user)) == value ? user : null;
    }

    // Uniqueness ignores case, ASCII case only (every username and email is ASCII): the indexes hold the
    // value with A-Z folded, and nothing else is folded, so that a Kelvin sign never becomes a k.
    private static string IndexValue(string value) =>
        string.Create(value.Length, value, static (folded, value) =>
        {
            for (var i = 0; i < value.Length; i++)
            {
                folded[i] = char.IsAsciiLetterUpper(value[i]) ? (char)(value[i] | 0x20) : value[i];
            }
        });

    private static byte[] Serialize(User user) => JsonSerializer.SerializeToUtf8Bytes(user, UsersJsonContext.Default.User);

    /// <summary>
    /// The user kept under <paramref name="id"/>: its document holds everything else. A document that cannot
    /// be read is logged, counted and taken for no user, so that it fails no read and no page that meets it;
    /// a delete still removes it, and the repair moves it to the quarantine.
    /// </summary>
    private User? TryRead(long id, RedisValue document)
    {
        try
        {
            return Parse(document) with { Id = id };
        }
        catch (Exception exception) when (exception is JsonException or InvalidDataException)
        {
            telemetry.UnreadableDocument();
            logger.UnreadableDocument(id, exception);
            return null;
        }
    }

    private static User Parse(RedisValue document) =>
        JsonSerializer.Deserialize((byte[])document!, UsersJsonContext.Default.User)
        ?? throw new InvalidDataException("A stored user document is null.");
}
