using System.Globalization;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// A claim: the value of a username's or an email's key, naming the user that holds the value, when the
/// store set it (its own clock, in milliseconds), and a token of the write that set it, so that a write
/// gives up only the claim it saw, never a later one. Its format, <c>id:at:token</c>, is written and read
/// here, in C# and in <see cref="Lua"/>, and nowhere else; the scripts that set, take over and remove claims
/// are here too.
/// </summary>
public readonly record struct Claim(long Id, long At, string Value)
{
    /// <summary>A claim of user <paramref name="id"/>, set at store time <paramref name="at"/> by the write <paramref name="token"/>.</summary>
    public static string Format(long id, long at, string token) => string.Create(CultureInfo.InvariantCulture, $"{id}:{at}:{token}");

    public static Claim? Parse(RedisValue value)
    {
        if (value.IsNull)
        {
            return null;
        }

        var text = (string)value!;
        var parts = text.Split(':');
        return parts.Length == 3
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var at)
                ? new Claim(id, at, text)
                : null;
    }

    /// <summary>
    /// The same in Lua, for the scripts that claim: <c>now()</c>, the store's clock in milliseconds (the same
    /// on every node of a cluster give or take their drift); <c>claim(id, at, token)</c>; <c>owner(claim)</c>,
    /// the user a claim names; and <c>age(claim)</c>, negative for one stamped by a clock ahead of this one.
    /// </summary>
    public const string Lua =
        """
        local function now()
            local time = redis.call('TIME')
            return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        end
        local function claim(id, at, token)
            return id .. ':' .. at .. ':' .. token
        end
        local function owner(value)
            return string.match(value, '^(%d+):')
        end
        local function age(value)
            return now() - tonumber(string.match(value, '^%d+:(%d+):') or '0')
        end

        """;

    /// <summary>
    /// Claims <paramref name="key"/> for user <paramref name="id"/> when it is free or already the user's own.
    /// Answers <see cref="StoreLayout.ScriptAnswer.Claimed"/> with the store time it set and the value it
    /// replaced (empty for none); otherwise <see cref="StoreLayout.ScriptAnswer.Held"/>: another user's claim, and
    /// how old it is in milliseconds (negative when it was stamped ahead of this node's clock).
    /// </summary>
    public static Task<StoreLayout.ScriptReply> SetAsync(IDatabase database, RedisKey key, long id, string token) =>
        database.RunAsync(SetScript, [key], [id, token]);

    private const string SetScript = Lua +
        """
        local key, id, token = KEYS[1], ARGV[1], ARGV[2]
        local at = now()
        local current = redis.call('GET', key)
        if current and owner(current) ~= id then return { 'Held', current, tostring(age(current)) } end
        redis.call('SET', key, claim(id, at, token))
        return { 'Claimed', tostring(at), current or '' }
        """;

    /// <summary>
    /// Takes <paramref name="key"/> over for user <paramref name="id"/> if it is still <paramref name="seen"/>
    /// and at least <see cref="StoreLayout.ClaimGrace"/> old, or stamped as far ahead: the caller found that its
    /// user does not hold the value. Answers as <see cref="SetAsync"/>.
    /// </summary>
    public static Task<StoreLayout.ScriptReply> TakeOverAsync(IDatabase database, RedisKey key, long id, string token, string seen) =>
        database.RunAsync(TakeOverScript, [key], [id, token, seen, (long)StoreLayout.ClaimGrace.TotalMilliseconds]);

    private const string TakeOverScript = Lua +
        """
        local key, id, token, seen, grace = KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
        local at = now()
        local current = redis.call('GET', key)
        if current ~= seen then return { 'Held', current or '', '0' } end
        local old = age(current)
        if math.abs(old) < grace then return { 'Held', current, tostring(old) } end
        redis.call('SET', key, claim(id, at, token))
        return { 'Claimed', tostring(at), current }
        """;

    /// <summary>
    /// Removes <paramref name="key"/> if it is still <paramref name="mine"/>: how a write that failed gives up a
    /// claim it made, and how a write that succeeded gives up a value its user no longer holds. Answers
    /// <see cref="StoreLayout.ScriptAnswer.Released"/>, or <see cref="StoreLayout.ScriptAnswer.Kept"/> for a
    /// claim that changed since.
    /// </summary>
    public static Task<StoreLayout.ScriptReply> ReleaseAsync(IDatabase database, RedisKey key, string mine) =>
        database.RunAsync(ReleaseScript, [key], [mine]);

    private const string ReleaseScript =
        """
        local key, mine = KEYS[1], ARGV[1]
        if redis.call('GET', key) ~= mine then return { 'Kept' } end
        redis.call('DEL', key)
        return { 'Released' }
        """;

    /// <summary>
    /// Removes <paramref name="key"/> if it is still <paramref name="seen"/> and at least
    /// <see cref="StoreLayout.ClaimGrace"/> old, or stamped as far ahead: the repair found that the user it names
    /// does not hold the value, and a write still in flight would be younger. Answers as <see cref="ReleaseAsync"/>.
    /// </summary>
    public static Task<StoreLayout.ScriptReply> RemoveLeftoverAsync(IDatabase database, RedisKey key, RedisValue seen) =>
        database.RunAsync(RemoveLeftoverScript, [key], [seen, (long)StoreLayout.ClaimGrace.TotalMilliseconds]);

    private const string RemoveLeftoverScript = Lua +
        """
        local key, seen, grace = KEYS[1], ARGV[1], tonumber(ARGV[2])
        local current = redis.call('GET', key)
        if current ~= seen then return { 'Kept' } end
        if math.abs(age(current)) < grace then return { 'Kept' } end
        redis.call('DEL', key)
        return { 'Released' }
        """;
}
