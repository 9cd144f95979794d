using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// A create sent with an Idempotency-Key: where its record and its outcome are kept, and the scripts that
/// reserve its id, keep its outcome with the user in one script, replay it, and keep a refusal.
/// </summary>
public static partial class StoreLayout
{
    /// <summary>
    /// Where a create sent with an Idempotency-Key keeps what it asked for and the id it reserved: one key per
    /// caller and key value, hashed (<paramref name="hash"/>, see <see cref="IdempotencyHash"/>), so that
    /// neither a caller's keys nor their length reach the store's key space as they are. A refusal is kept
    /// here too; a record of the layout before the buckets also holds its answer and document.
    /// </summary>
    public static RedisKey IdempotencyRecord(string hash) => "users:idempotency:" + hash;

    /// <summary>
    /// The outcome of the create under <see cref="IdempotencyRecord"/> that made user <paramref name="id"/>: its
    /// answer and document, in the user's bucket, written in the same script as the user.
    /// </summary>
    public static RedisKey IdempotencyOutcome(string hash, long id) =>
        string.Create(CultureInfo.InvariantCulture, $"users:{{{BucketOf(id)}}}:idempotency:{hash}");

    /// <summary>The hash an Idempotency-Key is kept under: of the caller and the key together, since callers never share keys.</summary>
    public static string IdempotencyHash(string caller, string idempotencyKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller}\n{idempotencyKey}")));

    /// <summary>
    /// The id for a create under the idempotency key of <paramref name="record"/>: the one an earlier attempt
    /// with the key reserved, unless that is <paramref name="retire"/>, or else <paramref name="id"/>. Answers
    /// <see cref="ScriptAnswer.Reserved"/> with the id and whether an earlier attempt reserved it ('1'), or an
    /// outcome the record holds: <see cref="ScriptAnswer.Replayed"/> with the answer and document for the same
    /// request, <see cref="ScriptAnswer.KeyReused"/> for another. The record is written each time, also when it
    /// is there already: WAIT confirms what its own connection wrote, and the record may be another's.
    /// </summary>
    public static Task<ScriptReply> ReserveAsync(IDatabase database, RedisKey record, string fingerprint, long? retire, long id, TimeSpan ttl) =>
        database.RunAsync(ReserveScript, [record], [fingerprint, retire?.ToString(CultureInfo.InvariantCulture) ?? "", id, (long)ttl.TotalSeconds]);

    private const string ReserveScript =
        """
        local record = KEYS[1]
        local fingerprint, retire, id, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
        local kept = redis.call('HMGET', record, 'fingerprint', 'answer', 'document', 'id')
        if kept[1] and kept[1] ~= fingerprint then return { 'KeyReused' } end
        redis.call('HSET', record, 'fingerprint', fingerprint)
        if kept[2] then return { 'Replayed', kept[2], kept[3] or '' } end
        if kept[4] and kept[4] ~= retire then return { 'Reserved', kept[4], '1' } end
        redis.call('HSET', record, 'id', id)
        redis.call('EXPIRE', record, ttl)
        return { 'Reserved', id, '0' }
        """;

    /// <summary>
    /// The outcome kept in <paramref name="outcome"/> for a create under an idempotency key:
    /// <see cref="ScriptAnswer.Replayed"/> with its answer and document, or <see cref="ScriptAnswer.Pending"/>.
    /// One that is there is written again, as <see cref="ReserveAsync"/> writes its record.
    /// </summary>
    public static Task<ScriptReply> OutcomeAsync(IDatabase database, RedisKey outcome) =>
        database.RunAsync(OutcomeScript, [outcome], []);

    private const string OutcomeScript =
        """
        local outcome = KEYS[1]
        local kept = redis.call('HMGET', outcome, 'answer', 'document')
        if not kept[1] then return { 'Pending' } end
        redis.call('HSET', outcome, 'answer', kept[1])
        return { 'Replayed', kept[1], kept[2] or '' }
        """;

    /// <summary>
    /// The create under an idempotency key: as <see cref="InsertAsync"/>, keeping its answer and document as its
    /// outcome (<paramref name="outcome"/>, see <see cref="IdempotencyOutcome"/>) in the same script, so that a
    /// write and its outcome land together. An outcome already kept (the same request, sent twice at once)
    /// answers <see cref="ScriptAnswer.Replayed"/>, and is written again, as <see cref="ReserveAsync"/> writes its record.
    /// </summary>
    public static Task<ScriptReply> InsertOnceAsync(IDatabase database, long id, RedisValue document, long claimedAt, RedisKey outcome, TimeSpan ttl) =>
        database.RunAsync(InsertOnceScript, [DataOf(id), Order(BucketOf(id)), outcome], [id, document, claimedAt, (long)WriteDeadline.TotalMilliseconds, (long)ttl.TotalSeconds]);

    private const string InsertOnceScript = InsertFunction +
        """
        local data, order, outcome = KEYS[1], KEYS[2], KEYS[3]
        local id, document, claimedAt, deadline, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        local kept = redis.call('HMGET', outcome, 'answer', 'document')
        if kept[1] then
            redis.call('HSET', outcome, 'answer', kept[1])
            return { 'Replayed', kept[1], kept[2] or '' }
        end
        local answer = insert(data, order, id, document, claimedAt, deadline)
        if answer == 'Applied' then
            redis.call('HSET', outcome, 'answer', id, 'document', document)
            redis.call('EXPIRE', outcome, ttl)
        end
        return { answer }
        """;

    /// <summary>
    /// Keeps <paramref name="refusal"/> as the first outcome of the create under the idempotency key of
    /// <paramref name="record"/>, unless one is kept already (<see cref="ScriptAnswer.Kept"/>); writes the record
    /// either way, as <see cref="ReserveAsync"/> does.
    /// </summary>
    public static Task<ScriptReply> RecordRefusalAsync(IDatabase database, RedisKey record, string fingerprint, ScriptAnswer refusal, TimeSpan ttl) =>
        database.RunAsync(RecordRefusalScript, [record], [fingerprint, refusal.ToString(), (long)ttl.TotalSeconds]);

    private const string RecordRefusalScript =
        """
        local record = KEYS[1]
        local fingerprint, answer, ttl = ARGV[1], ARGV[2], ARGV[3]
        redis.call('HSET', record, 'fingerprint', fingerprint)
        if redis.call('HEXISTS', record, 'answer') == 1 then return { 'Kept' } end
        redis.call('HSET', record, 'answer', answer)
        redis.call('EXPIRE', record, ttl)
        return { 'Applied' }
        """;
}
