using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Polly;
using Polly.Registry;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// Users in Redis, laid out as <see cref="StoreLayout"/> says. Updates and deletes are optimistic: the
/// script applies only if the document is still the one read.
/// </summary>
public sealed partial class UserStore(IConnectionMultiplexer redis, TimeProvider clock, UsersTelemetry telemetry, ResiliencePipelineProvider<string> resilience)
{
    /// <summary>How long the outcome of a create sent with an Idempotency-Key is kept.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    private const int MaxWriteAttempts = 16;

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
        return document.IsNull ? null : Read(id, document);
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
            users.Add(Read((long)flat[i], (RedisValue)flat[i + 1]));
        }

        return new UserPage(users, HasMore: flat.Length / 2 > limit);
    }

    /// <summary>Whether any user was ever created: the seed only goes into a store that never had one.</summary>
    public async Task<bool> IsEmptyAsync() => !await CallAsync(database => database.KeyExistsAsync(StoreLayout.NextId));

    /// <summary>
    /// Creates the user. With <paramref name="idempotency"/>, the first outcome is kept for
    /// <see cref="IdempotencyWindow"/> with the write, and the same request sent again gets it back
    /// (<see cref="WriteResult.Replayed"/>) instead of a second user or a conflict with its own first one.
    /// </summary>
    public async Task<WriteResult> CreateAsync(UserFields fields, IdempotencyKey? idempotency = null)
    {
        using var operation = telemetry.StartStoreOperation("create");
        var now = clock.GetUtcNow();
        var document = new User(Id: 0, fields.Username, fields.Email, fields.DisplayName, now, now, Version: 1);

        // One set of parameters serves both scripts: each takes the members it names.
        var parameters = new
        {
            usernames = StoreLayout.ByUsername,
            emails = StoreLayout.ByEmail,
            nextId = StoreLayout.NextId,
            data = StoreLayout.Data,
            order = StoreLayout.Order,
            generation = StoreLayout.Generation,
            username = IndexValue(fields.Username),
            email = IndexValue(fields.Email),
            document = Serialize(document),
            idempotency = idempotency is null ? default : StoreLayout.IdempotencyRecord(idempotency.Caller, idempotency.Key),
            fingerprint = Fingerprint(fields),
            ttl = (long)IdempotencyWindow.TotalSeconds,
        };
        var answer = await CallAsync(database =>
            database.ScriptEvaluateAsync(idempotency is null ? StoreLayout.Create : StoreLayout.CreateOnce, parameters));

        return answer switch
        {
            { Resp2Type: ResultType.Integer } => new(WriteOutcome.Done, document with { Id = (long)answer }),
            // { 'Replayed', first answer, first document }
            { Resp2Type: ResultType.Array } => Replay((RedisResult[])answer!),
            _ => Refusal(StoreLayout.AnswerOf(answer)),
        };
    }

    private static WriteResult Replay(RedisResult[] record) =>
        long.TryParse((string?)record[1], CultureInfo.InvariantCulture, out var id)
            ? new(WriteOutcome.Done, Read(id, (RedisValue)record[2]), Replayed: true)
            : Refusal(StoreLayout.AnswerOf(record[1])) with { Replayed = true };

    /// <summary>What a request asked for: a key sent again with other fields is a new request, and refused.</summary>
    private static string Fingerprint(UserFields fields) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(fields, UsersJsonContext.Default.UserFields)));

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

            var answer = await CallAsync(database => database.ScriptEvaluateAsync(StoreLayout.Update, new
            {
                data = StoreLayout.Data,
                usernames = StoreLayout.ByUsername,
                emails = StoreLayout.ByEmail,
                generation = StoreLayout.Generation,
                id,
                expected = current,
                document = Serialize(replacement),
                oldUsername = IndexValue(stored.Username),
                newUsername = IndexValue(fields.Username),
                oldEmail = IndexValue(stored.Email),
                newEmail = IndexValue(fields.Email),
            }));

            return Outcome(StoreLayout.AnswerOf(answer), replacement);
        });
    }

    public async Task<WriteResult> DeleteAsync(long id, long? expectedVersion)
    {
        using var operation = telemetry.StartStoreOperation("delete");
        return await WriteOptimisticallyAsync(id, expectedVersion, async (current, stored) =>
        {
            var answer = await CallAsync(database => database.ScriptEvaluateAsync(StoreLayout.Delete, new
            {
                data = StoreLayout.Data,
                order = StoreLayout.Order,
                usernames = StoreLayout.ByUsername,
                emails = StoreLayout.ByEmail,
                generation = StoreLayout.Generation,
                id,
                expected = current,
                username = IndexValue(stored.Username),
                email = IndexValue(stored.Email),
            }));

            return Outcome(StoreLayout.AnswerOf(answer), stored);
        });
    }

    /// <summary>
    /// Reads the user, checks the version the caller expects, and hands the document to
    /// <paramref name="write"/>, whose script applies only if the document is still the one read. A write
    /// that finds it changed (null) starts over from a fresh read.
    /// </summary>
    private async Task<WriteResult> WriteOptimisticallyAsync(long id, long? expectedVersion, Func<RedisValue, User, Task<WriteResult?>> write)
    {
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            var current = await CallAsync(database => database.HashGetAsync(StoreLayout.Data, id));
            if (current.IsNull)
            {
                return new(WriteOutcome.NotFound);
            }

            var stored = Read(id, current);
            if (expectedVersion is { } expected && stored.Version != expected)
            {
                return new(WriteOutcome.VersionMismatch, stored);
            }

            if (await write(current, stored) is { } result)
            {
                return result;
            }
        }

        return new(WriteOutcome.TooMuchContention);
    }

    /// <summary>What a write script's answer means for the caller; changed since it was read is null: read again.</summary>
    private static WriteResult? Outcome(StoreLayout.ScriptAnswer answer, User user) => answer switch
    {
        StoreLayout.ScriptAnswer.Applied => new WriteResult(WriteOutcome.Done, user),
        StoreLayout.ScriptAnswer.Changed => null,
        _ => Refusal(answer),
    };

    private static WriteResult Refusal(StoreLayout.ScriptAnswer answer) => new(answer switch
    {
        StoreLayout.ScriptAnswer.UsernameTaken => WriteOutcome.UsernameTaken,
        StoreLayout.ScriptAnswer.EmailTaken => WriteOutcome.EmailTaken,
        StoreLayout.ScriptAnswer.Gone => WriteOutcome.NotFound,
        StoreLayout.ScriptAnswer.KeyReused => WriteOutcome.IdempotencyKeyReused,
        _ => throw new InvalidOperationException($"A store script answered {answer} where a refusal was due."),
    });

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
        var user = Read((long)result[0], (RedisValue)result[1]);
        return IndexValue(indexed(user)) == value ? user : null;
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

    /// <summary>The user kept under <paramref name="id"/>: its document holds everything else.</summary>
    private static User Read(long id, RedisValue document) =>
        (JsonSerializer.Deserialize((byte[])document!, UsersJsonContext.Default.User)
            ?? throw new InvalidDataException("A stored user document is null.")) with { Id = id };
}
