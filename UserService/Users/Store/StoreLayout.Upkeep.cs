using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// The scripts that keep the store in shape (the repair's, and the quarantine), and the counters the
/// service keeps beside the users: cached answers per window, and each caller's rate-limit permits.
/// </summary>
public static partial class StoreLayout
{
    /// <summary>
    /// The repair's record, a hash: the store run it was for (<c>run</c>), where it is (<c>phase</c>,
    /// <c>cursor</c>), how many full scans have begun (<c>scans</c>), entries examined (<c>scanned</c>), and
    /// checks that found nothing to do (<c>skipped</c>).
    /// </summary>
    public static readonly RedisKey Repair = "users:repair";

    /// <summary>Held by the one replica that repairs, and lapses if that replica stops.</summary>
    public static readonly RedisKey RepairLease = "users:repair:lease";

    /// <summary>
    /// The store process's run id, new each time it starts (empty if it does not say). Asked through a script
    /// because the client keeps INFO for connections allowed administrative commands, which the service's is not.
    /// </summary>
    public static readonly LuaScript StoreRun = LuaScript.Prepare(
        """
        return string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') or ''
        """);

    /// <summary>Takes the lease for <c>@owner</c>, or extends it if <c>@owner</c> holds it; answers 1 when held.</summary>
    public static readonly LuaScript HoldLease = LuaScript.Prepare(
        """
        local holder = redis.call('GET', @lease)
        if holder and holder ~= @owner then return 0 end
        redis.call('SET', @lease, @owner, 'PX', @ttl)
        return 1
        """);

    /// <summary>Gives the lease up, if <c>@owner</c> still holds it.</summary>
    public static readonly LuaScript ReleaseLease = LuaScript.Prepare(
        """
        if redis.call('GET', @lease) == @owner then redis.call('DEL', @lease) end
        return 0
        """);

    /// <summary>The migration's record, a hash: how many times it started (<c>runs</c>), users <c>moved</c> and <c>quarantined</c>.</summary>
    public static readonly RedisKey Migration = "users:migration";

    /// <summary>Held by the one replica that migrates, and lapses if that replica stops.</summary>
    public static readonly RedisKey MigrationLease = "users:migration:lease";

    /// <summary>
    /// Lists the user exactly when its document exists (ids are never reused). Answers 1 when it changed
    /// the order.
    /// </summary>
    public static readonly LuaScript ReconcileOrder = LuaScript.Prepare(
        """
        local exists = redis.call('HEXISTS', @data, @id) == 1
        local listed = redis.call('ZSCORE', @order, @id)
        if exists and not listed then
            redis.call('ZADD', @order, @id, @id)
        elseif listed and not exists then
            redis.call('ZREM', @order, @id)
        else
            return 0
        end
        return 1
        """);

    /// <summary>
    /// Moves an unreadable document out of the users into its bucket's quarantine, if it is still the one the
    /// repair found (<c>@expected</c>): a delete or a write that raced the repair wins. Answers 1 when it
    /// moved it.
    /// </summary>
    public static readonly LuaScript QuarantineDocument = LuaScript.Prepare(
        """
        if redis.call('HGET', @data, @id) ~= @expected then return 0 end
        redis.call('HSET', @quarantine, @id, @expected)
        redis.call('HDEL', @data, @id)
        redis.call('ZREM', @order, @id)
        return 1
        """);
}
