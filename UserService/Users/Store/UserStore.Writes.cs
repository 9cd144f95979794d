using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using StackExchange.Redis;
using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>
/// Creates, replaces and deletes. Each claims the values it gives its user first, then changes the document
/// with a script that applies only if the document is still the one the write was based on, then gives up
/// the values the user no longer holds (see <see cref="StoreLayout"/> for why in that order).
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
        var user = new User(Id: 0, fields.Username, fields.Email, fields.DisplayName, now, now, Version: 1);
        var document = Serialize(user);
        var once = idempotency is null ? null : new CreateOnce(StoreLayout.IdempotencyHash(idempotency.Caller, idempotency.Key), Fingerprint(fields));

        long? retired = null;
        long id = 0;
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            if (id == 0)
            {
                var (reserved, replay) = await NewIdAsync(once, retired);
                if (replay is { } replayed)
                {
                    return replayed;
                }

                id = reserved;
            }

            // The id counter and the key's record are on a replica before the user is: a failover then hands
            // no id out twice, and a retry with the key finds the id its first attempt took.
            var claims = await ClaimAsync(id, Wanted(fields), once is null ? [StoreLayout.NextId] : [StoreLayout.NextId, once.Record]);
            if (claims.Refusal is { } refusal)
            {
                return once is null ? Refusal(refusal) : await RecordRefusalAsync(once, refusal);
            }

            var answer = await WriteDocumentAsync(claims, database => database.ScriptEvaluateAsync(once is null ? StoreLayout.Insert : StoreLayout.InsertOnce, new
            {
                data = StoreLayout.DataOf(id),
                order = StoreLayout.Order(StoreLayout.BucketOf(id)),
                outcome = once is null ? default : StoreLayout.IdempotencyOutcome(once.Hash, id),
                id,
                document,
                claimedAt = claims.At,
                deadline = (long)StoreLayout.WriteDeadline.TotalMilliseconds,
                ttl = (long)IdempotencyWindow.TotalSeconds,
            }));

            if (answer.Resp2Type == ResultType.Array)
            {
                // The same request, sent twice at once, landed from the other attempt: its claims stand.
                await ReleaseAsync(claims.Held);
                return await ConfirmedAsync(Replay((RedisResult[])answer!), StoreLayout.DataOf(id));
            }

            switch (StoreLayout.AnswerOf(answer))
            {
                case StoreLayout.ScriptAnswer.Applied:
                    await AcknowledgeAsync(id);
                    return new(WriteOutcome.Done, user with { Id = id });
                case StoreLayout.ScriptAnswer.IdTaken:
                    // The counter went back (a store that lost its last writes): give the claims up, take another id.
                    await ReleaseAsync(claims.Held);
                    (retired, id) = (id, 0);
                    break;
                default:
                    // Late: the next attempt claims again for the same id, over its own claims.
                    break;
            }
        }

        return new(WriteOutcome.TooMuchContention);
    }

    /// <summary>A create under an idempotency key: the key's hash, and what the request asked for.</summary>
    private sealed record CreateOnce(string Hash, string Fingerprint)
    {
        public RedisKey Record => StoreLayout.IdempotencyRecord(Hash);
    }

    /// <summary>
    /// The new user's id: a fresh one, or under an idempotency key the one an earlier attempt reserved, unless
    /// that is <paramref name="retired"/>. Under a key whose create has an outcome, that outcome, once a replica
    /// has it. Nothing here writes the user: a store failure before the outcome is a write not applied.
    /// </summary>
    private async Task<(long Id, WriteResult? Replay)> NewIdAsync(CreateOnce? once, long? retired)
    {
        var fresh = await NotAppliedAsync(() => CallAsync(database => database.StringIncrementAsync(StoreLayout.NextId)));
        if (once is null)
        {
            return (fresh, null);
        }

        var answer = await NotAppliedAsync(() => CallAsync(database => database.ScriptEvaluateAsync(StoreLayout.Reserve, new
        {
            idempotency = once.Record,
            fingerprint = once.Fingerprint,
            retire = retired?.ToString(CultureInfo.InvariantCulture) ?? "",
            id = fresh,
            ttl = (long)IdempotencyWindow.TotalSeconds,
        })));

        if (answer.Resp2Type != ResultType.Array)
        {
            return (0, Refusal(StoreLayout.AnswerOf(answer)) with { Replayed = true });
        }

        var reply = (RedisResult[])answer!;
        if (StoreLayout.AnswerOf(reply[0]) != StoreLayout.ScriptAnswer.Reserved)
        {
            return (0, await ConfirmedAsync(Replay(reply), once.Record));
        }

        var id = (long)reply[1];
        if ((string?)reply[2] != "1")
        {
            return (id, null);
        }

        // An earlier attempt reserved the id: if its user was made, its outcome is the answer, whatever the
        // user's values are now.
        var kept = StoreLayout.IdempotencyOutcome(once.Hash, id);
        var outcome = (RedisResult[])(await NotAppliedAsync(() => CallAsync(database => database.ScriptEvaluateAsync(StoreLayout.Outcome, new { outcome = kept }))))!;
        return (id, outcome.Length == 0 ? null : await ConfirmedAsync(Replay(outcome), kept));
    }

    /// <summary>
    /// A kept outcome, once a replica has <paramref name="kept"/>: the earlier attempt that wrote it may have
    /// answered 503, and a replay is an acknowledgement like a first answer. The script that read it wrote it
    /// again, so that this connection's WAIT covers it, whoever wrote it first.
    /// </summary>
    private async Task<WriteResult> ConfirmedAsync(WriteResult replay, RedisKey kept)
    {
        await ReplicatedAsync([kept], applied: true);
        return replay;
    }

    /// <summary>Keeps a create's refusal as its first outcome, so that the same request sent again gets it too.</summary>
    private async Task<WriteResult> RecordRefusalAsync(CreateOnce once, WriteOutcome refusal)
    {
        await NotAppliedAsync(async () =>
        {
            await CallAsync(database => database.ScriptEvaluateAsync(StoreLayout.RecordRefusal, new
            {
                idempotency = once.Record,
                fingerprint = once.Fingerprint,
                answer = refusal == WriteOutcome.UsernameTaken ? nameof(StoreLayout.ScriptAnswer.UsernameTaken) : nameof(StoreLayout.ScriptAnswer.EmailTaken),
                ttl = (long)IdempotencyWindow.TotalSeconds,
            }));
            await ReplicatedAsync([once.Record], applied: false);
            return true;
        });
        return new(refusal);
    }

    // { 'Replayed', first answer, first document }
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

            // Only the values that change are claimed, and the ones they replace given up afterwards.
            var (before, after) = (Wanted(FieldsOf(stored)), Wanted(fields));
            var changed = Enumerable.Range(0, before.Length).Where(i => before[i].Value != after[i].Value).ToArray();
            var old = await SeenClaimsAsync(id, [.. changed.Select(i => before[i])]);
            var claims = await ClaimAsync(id, [.. changed.Select(i => after[i])]);
            if (claims.Refusal is { } refusal)
            {
                return new WriteResult(refusal);
            }

            var answer = StoreLayout.AnswerOf(await WriteDocumentAsync(claims, database => database.ScriptEvaluateAsync(StoreLayout.Replace, new
            {
                data = StoreLayout.DataOf(id),
                id,
                expected = current,
                document = Serialize(replacement),
                claimedAt = claims.At,
                deadline = (long)StoreLayout.WriteDeadline.TotalMilliseconds,
            })));

            if (answer != StoreLayout.ScriptAnswer.Applied)
            {
                await ReleaseAsync(claims.Held);
                return Outcome(answer, replacement);
            }

            await AcknowledgeAsync(id, old);
            return new WriteResult(WriteOutcome.Done, replacement);
        });
    }

    public async Task<WriteResult> DeleteAsync(long id, long? expectedVersion)
    {
        using var operation = telemetry.StartStoreOperation("delete");
        return await WriteOptimisticallyAsync(id, expectedVersion, async (current, stored) =>
        {
            // Unreadable, it names no claims: those it had name no user now, which the repair removes.
            var old = stored is null ? [] : await SeenClaimsAsync(id, Wanted(FieldsOf(stored)));
            var answer = StoreLayout.AnswerOf(await WriteDocumentAsync(Claims.None, database => database.ScriptEvaluateAsync(StoreLayout.Remove, new
            {
                data = StoreLayout.DataOf(id),
                order = StoreLayout.Order(StoreLayout.BucketOf(id)),
                id,
                expected = current,
            })));

            if (answer != StoreLayout.ScriptAnswer.Applied)
            {
                return Outcome(answer, stored);
            }

            await AcknowledgeAsync(id, old);
            return new WriteResult(WriteOutcome.Done, stored);
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
            var current = await NotAppliedAsync(() => CallAsync(database => database.HashGetAsync(StoreLayout.DataOf(id), id)));
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

    /// <summary>What a write script's answer means for the caller; null: read again and retry.</summary>
    private static WriteResult? Outcome(StoreLayout.ScriptAnswer answer, User? user) => answer switch
    {
        StoreLayout.ScriptAnswer.Applied => new WriteResult(WriteOutcome.Done, user),
        StoreLayout.ScriptAnswer.Changed or StoreLayout.ScriptAnswer.Late => null,
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

    private static WriteResult Refusal(WriteOutcome refusal) => new(refusal);

    /// <summary>
    /// The one step of a write that changes its user. Until it is sent the write has not been applied, so a
    /// store failure gives the claims back; once sent it may have been, and the claims stay with it.
    /// </summary>
    private async Task<RedisResult> WriteDocumentAsync(Claims claims, Func<IDatabase, Task<RedisResult>> write)
    {
        try
        {
            var answer = await CallAsync(write);
            if (answer.Resp2Type != ResultType.Array && answer.ToString() == nameof(StoreLayout.ScriptAnswer.Late))
            {
                logger.DocumentLate(StoreLayout.WriteDeadline);
            }

            return answer;
        }
        catch (StoreUnavailableException unavailable) when (!unavailable.MayHaveApplied)
        {
            ReleaseDetached(claims.Held);
            throw;
        }
    }

    /// <summary>
    /// A step before the document: whatever the store did with it, the user was not written, which is what the
    /// caller of a write that fails here is told.
    /// </summary>
    private static async ValueTask<T> NotAppliedAsync<T>(Func<ValueTask<T>> step)
    {
        try
        {
            return await step();
        }
        catch (StoreUnavailableException unavailable) when (unavailable.MayHaveApplied)
        {
            throw new StoreUnavailableException(mayHaveApplied: false, unavailable.RetryAfter, unavailable);
        }
    }

    /// <summary>
    /// What turns a write to user <paramref name="id"/> that the store applied into an acknowledged one: the
    /// cached reads' generation moves on, and a replica has both the user and the generation. Either failing
    /// answers 503, outcome unknown, since readers of the primary already see the write. Only then are the
    /// values the user gave up (<paramref name="givenUp"/>) released: before, a failover could hand them back
    /// to it while another user took them.
    /// </summary>
    private async Task AcknowledgeAsync(long id, IReadOnlyList<HeldClaim>? givenUp = null)
    {
        try
        {
            // Sent before the WAITs, on the same connections, so that they cover it.
            var generation = CallAsync(database => database.StringSetAsync(StoreLayout.Generation, StoreLayout.NewGeneration())).AsTask();
            await Task.WhenAll(generation, ReplicatedAsync([StoreLayout.DataOf(id), StoreLayout.Generation], applied: true));
        }
        catch (StoreUnavailableException unavailable) when (!unavailable.MayHaveApplied)
        {
            throw new StoreUnavailableException(mayHaveApplied: true, unavailable.RetryAfter, unavailable);
        }

        if (givenUp is { Count: > 0 })
        {
            await ReleaseAsync(givenUp);
        }
    }
}
