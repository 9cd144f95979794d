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
    /// Moves one user into its bucket if its old document is still <c>@expected</c>: first the claims of its
    /// username and email, then its order entry and document, last the old document. Any prefix of it leaves
    /// the old document in place, and running it again finishes it. A document whose username or email the
    /// old index gives another user, or that another user claimed already (which the old index forbade), goes
    /// to the bucket's quarantine instead: two documents with one value keep the user the old index named,
    /// whichever the scan meets first. Answers 'Moved', 'Quarantined', or 'Gone' when the old document is no
    /// longer there.
    /// </summary>
    public static readonly LuaScript MoveUser = LuaScript.Prepare(Claim.Lua +
        """
        if redis.call('HGET', @oldData, @id) ~= @expected then return 'Gone' end
        local moved = claim(@id, now(), 'migrated')
        local username = redis.call('HGET', @byUsername, @username)
        local email = redis.call('HGET', @byEmail, @email)
        if (username and username ~= @id) or (email and email ~= @id) then
            redis.call('HSET', @quarantine, @id, @expected)
            redis.call('HDEL', @oldData, @id)
            return 'Quarantined'
        end
        for _, key in ipairs({ @usernameClaim, @emailClaim }) do
            local holder = owner(redis.call('GET', key) or '')
            if holder and holder ~= @id then
                redis.call('HSET', @quarantine, @id, @expected)
                redis.call('HDEL', @oldData, @id)
                return 'Quarantined'
            end
        end
        redis.call('SET', @usernameClaim, moved)
        redis.call('SET', @emailClaim, moved)
        redis.call('ZADD', @order, @id, @id)
        redis.call('HSET', @data, @id, @expected)
        redis.call('HDEL', @oldData, @id)
        return 'Moved'
        """);

    /// <summary>Moves a document the service cannot read into its bucket's quarantine, if it is still <c>@expected</c>.</summary>
    public static readonly LuaScript QuarantineUser = LuaScript.Prepare(
        """
        if redis.call('HGET', @oldData, @id) ~= @expected then return 'Gone' end
        redis.call('HSET', @quarantine, @id, @expected)
        redis.call('HDEL', @oldData, @id)
        return 'Quarantined'
        """);
}
