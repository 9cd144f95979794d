using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>
/// Users in Redis, laid out as <see cref="StoreLayout"/> says. Updates and deletes are optimistic: the
/// script applies only if the document is still the one read.
/// </summary>
public sealed partial class UserStore(
    IConnectionMultiplexer redis,
    StoreLayoutGate layout,
    IOptions<StoreReplicationOptions> replication,
    TimeProvider clock,
    UsersTelemetry telemetry,
    StoreBreaker breaker,
    ILogger<UserStore> logger)
{
    /// <summary>What Retry-After says while the store is being migrated.</summary>
    private static readonly TimeSpan StoreMigrating = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Every Redis call goes through the store's circuit breaker, within the client's timeout. None goes
    /// before the store holds the current layout.
    /// </summary>
    private ValueTask<T> CallAsync<T>(Func<IDatabase, Task<T>> call)
    {
        if (!layout.IsOpen)
        {
            throw new StoreUnavailableException(mayHaveApplied: false, StoreMigrating, new InvalidOperationException("The store is being migrated to the current layout."));
        }

        var database = redis.GetDatabase();
        return breaker.CallStoreAsync(() => call(database));
    }

    public async Task<User?> FindAsync(long id)
    {
        using var operation = telemetry.StartStoreOperation("find");
        var document = await CallAsync(database => database.HashGetAsync(StoreLayout.DataOf(id), id));
        return document.IsNull ? null : TryRead(id, document);
    }

    public async Task<User?> FindByUsernameAsync(string username)
    {
        var value = IndexValue(username);
        return await LookupAsync("find-by-username", StoreLayout.UsernameClaim(value), value, static user => user.Username);
    }

    public async Task<User?> FindByEmailAsync(string email)
    {
        var value = IndexValue(email);
        return await LookupAsync("find-by-email", StoreLayout.EmailClaim(value), value, static user => user.Email);
    }

    /// <summary>Up to <paramref name="limit"/> users with an id above <paramref name="after"/>, in id order.</summary>
    public async Task<UserPage> ListAsync(long after, int limit)
    {
        using var operation = telemetry.StartStoreOperation("list");
        var (found, more) = await CallAsync(database => StoreLayout.PageAsync(database, after, limit));

        var users = new List<User>(found.Count);
        foreach (var (id, document) in found)
        {
            if (!document.IsNull && TryRead(id, document) is { } user)
            {
                users.Add(user);
            }
        }

        // The next page starts after the last id this one looked at, whether or not its user was still there.
        return new UserPage(users, more ? found[^1].Id : null);
    }

    /// <summary>Whether any user was ever created: the seed only goes into a store that never had one.</summary>
    public async Task<bool> IsEmptyAsync() => !await CallAsync(database => database.KeyExistsAsync(StoreLayout.NextId));

    /// <summary>A value that changes whenever any user changes, and never comes back: cached reads are keyed by it.</summary>
    public async Task<string> GenerationAsync() => (string?)await CallAsync(database => database.StringGetAsync(StoreLayout.Generation)) ?? "";

    /// <summary>
    /// The user that <paramref name="claim"/> names, if that user holds the value: a claim left by a write that
    /// a crash cut short names a user who does not, or none.
    /// </summary>
    private async Task<User?> LookupAsync(string operationName, RedisKey claim, string value, Func<User, string> indexed)
    {
        using var operation = telemetry.StartStoreOperation(operationName);
        if (Claim.Parse(await CallAsync(database => database.StringGetAsync(claim))) is not { } owner)
        {
            return null;
        }

        var document = await CallAsync(database => database.HashGetAsync(StoreLayout.DataOf(owner.Id), owner.Id));
        return !document.IsNull && TryRead(owner.Id, document) is { } user && IndexValue(indexed(user)) == value ? user : null;
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
