using StackExchange.Redis;
using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>
/// Replaces and deletes, and what every write shares. Each claims the values it gives its user first, then
/// changes the document with a script that applies only if the document is still the one the write was based
/// on, then gives up the values the user no longer holds (see <see cref="StoreLayout"/> for why in that order).
/// </summary>
public sealed partial class UserStore
{
    private const int MaxWriteAttempts = 16;

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

            var answer = (await WriteDocumentAsync(claims, database => StoreLayout.ReplaceAsync(database, id, current, Serialize(replacement), claims.At))).Answer;

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
            var answer = (await WriteDocumentAsync(Claims.None, database => StoreLayout.RemoveAsync(database, id, current))).Answer;

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
    private async Task<StoreLayout.ScriptReply> WriteDocumentAsync(Claims claims, Func<IDatabase, Task<StoreLayout.ScriptReply>> write)
    {
        try
        {
            var reply = await CallAsync(write);
            if (reply.Answer == StoreLayout.ScriptAnswer.Late)
            {
                logger.DocumentLate(StoreLayout.WriteDeadline);
            }

            return reply;
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
