using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// Creates: a new id, the claims of the user's values, then its document; under an Idempotency-Key, the id
/// reserved and the outcome kept with the document, so that the same request sent again gets the first answer.
/// </summary>
public sealed partial class UserStore
{
    /// <summary>How long the outcome of a create sent with an Idempotency-Key is kept.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

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

            var reply = await WriteDocumentAsync(claims, database => once is null
                ? StoreLayout.InsertAsync(database, id, document, claims.At)
                : StoreLayout.InsertOnceAsync(database, id, document, claims.At, StoreLayout.IdempotencyOutcome(once.Hash, id), IdempotencyWindow));

            switch (reply.Answer)
            {
                case StoreLayout.ScriptAnswer.Replayed:
                    // The same request, sent twice at once, landed from the other attempt: its claims stand.
                    await ReleaseAsync(claims.Held);
                    return await ConfirmedAsync(Replay(reply), StoreLayout.DataOf(id));
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

        var reply = await NotAppliedAsync(() => CallAsync(database => StoreLayout.ReserveAsync(database, once.Record, once.Fingerprint, retired, fresh, IdempotencyWindow)));
        switch (reply.Answer)
        {
            case StoreLayout.ScriptAnswer.KeyReused:
                return (0, Refusal(reply.Answer) with { Replayed = true });
            case StoreLayout.ScriptAnswer.Replayed:
                return (0, await ConfirmedAsync(Replay(reply), once.Record));
        }

        var id = (long)reply[0];
        if (reply[1] != "1")
        {
            return (id, null);
        }

        // An earlier attempt reserved the id: if its user was made, its outcome is the answer, whatever the
        // user's values are now.
        var kept = StoreLayout.IdempotencyOutcome(once.Hash, id);
        var outcome = await NotAppliedAsync(() => CallAsync(database => StoreLayout.OutcomeAsync(database, kept)));
        return (id, outcome.Answer == StoreLayout.ScriptAnswer.Pending ? null : await ConfirmedAsync(Replay(outcome), kept));
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
            await CallAsync(database => StoreLayout.RecordRefusalAsync(database, once.Record, once.Fingerprint,
                refusal == WriteOutcome.UsernameTaken ? StoreLayout.ScriptAnswer.UsernameTaken : StoreLayout.ScriptAnswer.EmailTaken, IdempotencyWindow));
            await ReplicatedAsync([once.Record], applied: false);
            return true;
        });
        return new(refusal);
    }

    /// <summary>A kept outcome (<see cref="StoreLayout.ScriptAnswer.Replayed"/>): the id the create answered and its document, or the refusal.</summary>
    private static WriteResult Replay(StoreLayout.ScriptReply kept) =>
        long.TryParse((string?)kept[0], CultureInfo.InvariantCulture, out var id)
            ? new(WriteOutcome.Done, Parse(kept[1]) with { Id = id }, Replayed: true)
            : Refusal(Enum.Parse<StoreLayout.ScriptAnswer>((string)kept[0]!)) with { Replayed = true };

    /// <summary>What a request asked for: a key sent again with other fields is a new request, and refused.</summary>
    private static string Fingerprint(UserFields fields) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(fields, UsersJsonContext.Default.UserFields)));
}
