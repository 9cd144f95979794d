using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// What keeps the store in shape: the repair's and the migration's records and leases, the store run the
/// repair is for, and the scripts that put a bucket's order right and quarantine an unreadable document.
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
    public static async Task<string> StoreRunAsync(IDatabase database) => RunOf(await database.RunAsync(StoreRunScript, [], []));

    /// <inheritdoc cref="StoreRunAsync(IDatabase)"/>
    public static async Task<string> StoreRunAsync(IServer primary) => RunOf(ScriptReply.Of(await primary.ExecuteAsync("EVAL", StoreRunScript, 0)));

    private static string RunOf(ScriptReply reply) => (string?)reply[0] ?? "";

    private const string StoreRunScript =
        """
        return { 'Running', string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') or '' }
        """;

    /// <summary>
    /// Takes <paramref name="lease"/> for <paramref name="owner"/> for <paramref name="duration"/>, or extends it
    /// if <paramref name="owner"/> holds it: <see cref="ScriptAnswer.Leased"/>, or <see cref="ScriptAnswer.Held"/>
    /// by another.
    /// </summary>
    public static Task<ScriptReply> HoldLeaseAsync(IDatabase database, RedisKey lease, string owner, TimeSpan duration) =>
        database.RunAsync(HoldLeaseScript, [lease], [owner, (long)duration.TotalMilliseconds]);

    private const string HoldLeaseScript =
        """
        local lease, owner, ttl = KEYS[1], ARGV[1], ARGV[2]
        local holder = redis.call('GET', lease)
        if holder and holder ~= owner then return { 'Held' } end
        redis.call('SET', lease, owner, 'PX', ttl)
        return { 'Leased' }
        """;

    /// <summary>Gives <paramref name="lease"/> up, if <paramref name="owner"/> still holds it.</summary>
    public static Task<ScriptReply> ReleaseLeaseAsync(IDatabase database, RedisKey lease, string owner) =>
        database.RunAsync(ReleaseLeaseScript, [lease], [owner]);

    private const string ReleaseLeaseScript =
        """
        local lease, owner = KEYS[1], ARGV[1]
        if redis.call('GET', lease) ~= owner then return { 'Kept' } end
        redis.call('DEL', lease)
        return { 'Released' }
        """;

    /// <summary>The migration's record, a hash: how many times it started (<c>runs</c>), users <c>moved</c> and <c>quarantined</c>.</summary>
    public static readonly RedisKey Migration = "users:migration";

    /// <summary>Held by the one replica that migrates, and lapses if that replica stops.</summary>
    public static readonly RedisKey MigrationLease = "users:migration:lease";

    /// <summary>
    /// Lists user <paramref name="id"/> of <paramref name="bucket"/> exactly when its document exists (ids are
    /// never reused): <see cref="ScriptAnswer.Applied"/> when that changed the order, or else <see cref="ScriptAnswer.Kept"/>.
    /// </summary>
    public static Task<ScriptReply> ReconcileOrderAsync(IDatabase database, int bucket, long id) =>
        database.RunAsync(ReconcileOrderScript, [Data(bucket), Order(bucket)], [id]);

    private const string ReconcileOrderScript =
        """
        local data, order, id = KEYS[1], KEYS[2], ARGV[1]
        local exists = redis.call('HEXISTS', data, id) == 1
        local listed = redis.call('ZSCORE', order, id)
        if exists and not listed then
            redis.call('ZADD', order, id, id)
        elseif listed and not exists then
            redis.call('ZREM', order, id)
        else
            return { 'Kept' }
        end
        return { 'Applied' }
        """;

    /// <summary>
    /// Moves the unreadable document of user <paramref name="id"/> out of the users into its bucket's
    /// quarantine, if it is still the one the repair found (<paramref name="expected"/>): a delete or a write
    /// that raced the repair wins. Answers <see cref="ScriptAnswer.Quarantined"/> or <see cref="ScriptAnswer.Changed"/>.
    /// </summary>
    public static Task<ScriptReply> QuarantineDocumentAsync(IDatabase database, long id, RedisValue expected) =>
        database.RunAsync(QuarantineDocumentScript, [DataOf(id), Order(BucketOf(id)), Quarantine(BucketOf(id))], [id, expected]);

    private const string QuarantineDocumentScript =
        """
        local data, order, quarantine = KEYS[1], KEYS[2], KEYS[3]
        local id, expected = ARGV[1], ARGV[2]
        if redis.call('HGET', data, id) ~= expected then return { 'Changed' } end
        redis.call('HSET', quarantine, id, expected)
        redis.call('HDEL', data, id)
        redis.call('ZREM', order, id)
        return { 'Quarantined' }
        """;
}
