using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// The layout before the buckets, which a store written by an earlier version still holds: one hash of every
/// document, one sorted set of every id, one hash per unique field. It only ever ran on a
/// single node, so the migration's scripts may span old and new keys. <see cref="StoreMigration"/> moves it
/// to <see cref="StoreLayout"/>; nothing else reads it.
/// </summary>
public static class LegacyLayout
{
    public static readonly RedisKey Data = "users:data";
    public static readonly RedisKey Order = "users:order";
    public static readonly RedisKey ByUsername = "users:by-username";
    public static readonly RedisKey ByEmail = "users:by-email";
    public static readonly RedisKey Quarantine = "users:quarantine";

    /// <summary>
    /// Every key of the old layout that the new one does not share: a store with none of them holds no old
    /// users. (The id counter, the generation and the idempotency records are the same keys in both.)
    /// </summary>
    public static readonly RedisKey[] Keys = [Data, Order, ByUsername, ByEmail, Quarantine];

    /// <summary>
    /// Moves user <paramref name="id"/> into its bucket if its old document is still <paramref name="expected"/>:
    /// first the claims of its username and email (<paramref name="username"/> and <paramref name="email"/>, as
    /// the service compares them), then its order entry and document, last the old document. Any prefix of it
    /// leaves the old document in place, and running it again finishes it. A document whose username or email
    /// the old index gives another user, or that another user claimed already (which the old index forbade),
    /// goes to the bucket's quarantine instead: two documents with one value keep the user the old index named,
    /// whichever the scan meets first. Answers <see cref="StoreLayout.ScriptAnswer.Moved"/>,
    /// <see cref="StoreLayout.ScriptAnswer.Quarantined"/>, or <see cref="StoreLayout.ScriptAnswer.Gone"/> when the
    /// old document is no longer there.
    /// </summary>
    public static Task<StoreLayout.ScriptReply> MoveUserAsync(IDatabase database, long id, RedisValue expected, string username, string email)
    {
        var bucket = StoreLayout.BucketOf(id);
        return database.RunAsync(MoveUserScript,
            [Data, ByUsername, ByEmail, StoreLayout.UsernameClaim(username), StoreLayout.EmailClaim(email), StoreLayout.Order(bucket), StoreLayout.Data(bucket), StoreLayout.Quarantine(bucket)],
            [id, expected, username, email]);
    }

    private const string MoveUserScript = Claim.Lua +
        """
        local oldData, byUsername, byEmail, usernameClaim, emailClaim, order, data, quarantine =
            KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
        local id, expected, username, email = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
        if redis.call('HGET', oldData, id) ~= expected then return { 'Gone' } end
        local moved = claim(id, now(), 'migrated')
        local usernameHolder = redis.call('HGET', byUsername, username)
        local emailHolder = redis.call('HGET', byEmail, email)
        if (usernameHolder and usernameHolder ~= id) or (emailHolder and emailHolder ~= id) then
            redis.call('HSET', quarantine, id, expected)
            redis.call('HDEL', oldData, id)
            return { 'Quarantined' }
        end
        for _, key in ipairs({ usernameClaim, emailClaim }) do
            local holder = owner(redis.call('GET', key) or '')
            if holder and holder ~= id then
                redis.call('HSET', quarantine, id, expected)
                redis.call('HDEL', oldData, id)
                return { 'Quarantined' }
            end
        end
        redis.call('SET', usernameClaim, moved)
        redis.call('SET', emailClaim, moved)
        redis.call('ZADD', order, id, id)
        redis.call('HSET', data, id, expected)
        redis.call('HDEL', oldData, id)
        return { 'Moved' }
        """;

    /// <summary>Moves a document the service cannot read into its bucket's quarantine, if it is still <paramref name="expected"/>.</summary>
    public static Task<StoreLayout.ScriptReply> QuarantineUserAsync(IDatabase database, long id, RedisValue expected) =>
        database.RunAsync(QuarantineUserScript, [Data, StoreLayout.Quarantine(StoreLayout.BucketOf(id))], [id, expected]);

    private const string QuarantineUserScript =
        """
        local oldData, quarantine = KEYS[1], KEYS[2]
        local id, expected = ARGV[1], ARGV[2]
        if redis.call('HGET', oldData, id) ~= expected then return { 'Gone' } end
        redis.call('HSET', quarantine, id, expected)
        redis.call('HDEL', oldData, id)
        return { 'Quarantined' }
        """;
}
