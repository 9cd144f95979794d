using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// Creates, replaces and deletes: each one script, which applies only if the document is still the one the
/// write was based on, and answers in words (<see cref="StoreLayout.ScriptAnswer"/>).
/// </summary>
public sealed partial class UserStore
{
    /// <summary>How long the outcome of a create sent with an Idempotency-Key is kept.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    private const int MaxWriteAttempts = 16;

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
            fingerprint = idempotency is null ? "" : Fingerprint(fields),
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
            ? new(WriteOutcome.Done, Parse((RedisValue)record[2]) with { Id = id }, Replayed: true)
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
            // A document that cannot be read is no user to replace; deleting it is what removes it.
            if (stored is null)
            {
                return new WriteResult(WriteOutcome.NotFound);
            }

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
                // Unreadable, it names no entries: those it had point at no user now, which the repair removes.
                username = stored is null ? "" : IndexValue(stored.Username),
                email = stored is null ? "" : IndexValue(stored.Email),
            }));

            return Outcome(StoreLayout.AnswerOf(answer), stored);
        });
    }

    /// <summary>
    /// Reads the user, checks the version the caller expects, and hands the document to
    /// <paramref name="write"/>, whose script applies only if the document is still the one read. A write
    /// that finds it changed (null) starts over from a fresh read. An unreadable document reaches
    /// <paramref name="write"/> as no user, and has no version to match.
    /// </summary>
    private async Task<WriteResult> WriteOptimisticallyAsync(long id, long? expectedVersion, Func<RedisValue, User?, Task<WriteResult?>> write)
    {
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            var current = await CallAsync(database => database.HashGetAsync(StoreLayout.Data, id));
            if (current.IsNull)
            {
                return new(WriteOutcome.NotFound);
            }

            var stored = TryRead(id, current);
            if (expectedVersion is { } expected && stored?.Version != expected)
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
    private static WriteResult? Outcome(StoreLayout.ScriptAnswer answer, User? user) => answer switch
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
}
