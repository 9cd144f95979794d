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
    /// The id for a create under an idempotency key (<see cref="IdempotencyRecord"/>): the one an earlier
    /// attempt with the key reserved, unless that is <c>@retire</c>, or else <c>@id</c>. Answers
    /// <c>{ 'Reserved', id, earlier }</c> (earlier: '1' when an earlier attempt reserved it), or an outcome the
    /// record holds: <c>{ 'Replayed', answer, document }</c> for the same request, <see cref="ScriptAnswer.KeyReused"/> for another.
    /// The record is written each time, also when it is there already: WAIT confirms what its own connection
    /// wrote, and the record may be another's.
    /// </summary>
    public static readonly LuaScript Reserve = LuaScript.Prepare(
        """
        local record = redis.call('HMGET', @idempotency, 'fingerprint', 'answer', 'document', 'id')
        if record[1] and record[1] ~= @fingerprint then return 'KeyReused' end
        redis.call('HSET', @idempotency, 'fingerprint', @fingerprint)
        if record[2] then return { 'Replayed', record[2], record[3] or '' } end
        if record[4] and record[4] ~= @retire then return { 'Reserved', record[4], '1' } end
        redis.call('HSET', @idempotency, 'id', @id)
        redis.call('EXPIRE', @idempotency, @ttl)
        return { 'Reserved', @id, '0' }
        """);

    /// <summary>
    /// The outcome kept for a create under an idempotency key: <c>{ 'Replayed', answer, document }</c>, or nothing
    /// yet. One that is there is written again, as <see cref="Reserve"/> writes its record.
    /// </summary>
    public static readonly LuaScript Outcome = LuaScript.Prepare(
        """
        local outcome = redis.call('HMGET', @outcome, 'answer', 'document')
        if not outcome[1] then return {} end
        redis.call('HSET', @outcome, 'answer', outcome[1])
        return { 'Replayed', outcome[1], outcome[2] or '' }
        """);

    /// <summary>
    /// The create under an idempotency key: as <see cref="Insert"/>, keeping its answer and document as its
    /// outcome (<see cref="IdempotencyOutcome"/>) in the same script, so that a write and its outcome land
    /// together. An outcome already kept (the same request, sent twice at once) answers
    /// <c>{ 'Replayed', answer, document }</c>, and is written again, as <see cref="Reserve"/> writes its record.
    /// </summary>
    public static readonly LuaScript InsertOnce = LuaScript.Prepare(InsertFunction +
        """
        local outcome = redis.call('HMGET', @outcome, 'answer', 'document')
        if outcome[1] then
            redis.call('HSET', @outcome, 'answer', outcome[1])
            return { 'Replayed', outcome[1], outcome[2] or '' }
        end
        local answer = insert()
        if answer == 'Applied' then
            redis.call('HSET', @outcome, 'answer', @id, 'document', @document)
            redis.call('EXPIRE', @outcome, @ttl)
        end
        return answer
        """);

    /// <summary>
    /// Keeps a refusal as the first outcome of a create under an idempotency key, unless one is kept already;
    /// writes the record either way, as <see cref="Reserve"/> does.
    /// </summary>
    public static readonly LuaScript RecordRefusal = LuaScript.Prepare(
        """
        redis.call('HSET', @idempotency, 'fingerprint', @fingerprint)
        if redis.call('HEXISTS', @idempotency, 'answer') == 1 then return 0 end
        redis.call('HSET', @idempotency, 'answer', @answer)
        redis.call('EXPIRE', @idempotency, @ttl)
        return 1
        """);
}
