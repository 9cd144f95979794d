using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// The scripts that write a user's document, each applied only if the document is still what its write was
/// based on, and only while the write's claims are fresh (see <see cref="WriteDeadline"/>).
/// </summary>
public static partial class StoreLayout
{
    // A document written by a write whose claims are older than the deadline, or stamped as far ahead of this
    // node's clock (read as Claim.Lua's now() reads it), could land after a takeover of those claims: the
    // store refuses it, and the write claims again. A write that claimed nothing (at 0) is never late.
    private const string Late = Claim.Lua +
        """
        local function late(claimedAt, deadline)
            return tonumber(claimedAt) > 0 and math.abs(now() - tonumber(claimedAt)) > tonumber(deadline)
        end

        """;

    // The create's document, shared by the scripts with and without an idempotency record. An id already in
    // use means the counter went back (a store that lost its last writes): the write takes another.
    private const string InsertFunction = Late +
        """
        local function insert(data, order, id, document, claimedAt, deadline)
            if late(claimedAt, deadline) then return 'Late' end
            if redis.call('HEXISTS', data, id) == 1 then return 'IdTaken' end
            redis.call('ZADD', order, id, id)
            redis.call('HSET', data, id, document)
            return 'Applied'
        end

        """;

    /// <summary>
    /// Writes a new user's document, once its claims (the earliest set at store time <paramref name="claimedAt"/>)
    /// are held: <see cref="ScriptAnswer.Applied"/>, <see cref="ScriptAnswer.Late"/> or <see cref="ScriptAnswer.IdTaken"/>.
    /// </summary>
    public static Task<ScriptReply> InsertAsync(IDatabase database, long id, RedisValue document, long claimedAt) =>
        database.RunAsync(InsertScript, [DataOf(id), Order(BucketOf(id))], [id, document, claimedAt, (long)WriteDeadline.TotalMilliseconds]);

    private const string InsertScript = InsertFunction +
        """
        local data, order = KEYS[1], KEYS[2]
        local id, document, claimedAt, deadline = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
        return { insert(data, order, id, document, claimedAt, deadline) }
        """;

    /// <summary>
    /// Replaces the document of user <paramref name="id"/> if it is still <paramref name="expected"/>:
    /// <see cref="ScriptAnswer.Applied"/>, <see cref="ScriptAnswer.Gone"/>, <see cref="ScriptAnswer.Changed"/>
    /// or <see cref="ScriptAnswer.Late"/>.
    /// </summary>
    public static Task<ScriptReply> ReplaceAsync(IDatabase database, long id, RedisValue expected, RedisValue document, long claimedAt) =>
        database.RunAsync(ReplaceScript, [DataOf(id)], [id, expected, document, claimedAt, (long)WriteDeadline.TotalMilliseconds]);

    private const string ReplaceScript = Late +
        """
        local data = KEYS[1]
        local id, expected, document, claimedAt, deadline = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        local current = redis.call('HGET', data, id)
        if not current then return { 'Gone' } end
        if current ~= expected then return { 'Changed' } end
        if late(claimedAt, deadline) then return { 'Late' } end
        redis.call('HSET', data, id, document)
        return { 'Applied' }
        """;

    /// <summary>
    /// Deletes user <paramref name="id"/> if its document is still <paramref name="expected"/>:
    /// <see cref="ScriptAnswer.Applied"/>, <see cref="ScriptAnswer.Gone"/> or <see cref="ScriptAnswer.Changed"/>.
    /// </summary>
    public static Task<ScriptReply> RemoveAsync(IDatabase database, long id, RedisValue expected) =>
        database.RunAsync(RemoveScript, [DataOf(id), Order(BucketOf(id))], [id, expected]);

    private const string RemoveScript =
        """
        local data, order = KEYS[1], KEYS[2]
        local id, expected = ARGV[1], ARGV[2]
        local current = redis.call('HGET', data, id)
        if not current then return { 'Gone' } end
        if current ~= expected then return { 'Changed' } end
        redis.call('HDEL', data, id)
        redis.call('ZREM', order, id)
        return { 'Applied' }
        """;
}
