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
    /// Claims <c>@claim</c> for user <c>@id</c> when it is free or already the user's own. Answers
    /// <c>{ 'Claimed', at, previous }</c>, with the value it replaced (empty for none); otherwise
    /// <c>{ 'Held', current, age }</c>: another user's claim, and how old it is in milliseconds (negative when
    /// it was stamped ahead of this node's clock).
    /// </summary>
    public static readonly LuaScript Set = LuaScript.Prepare(Lua +
        """
        local at = now()
        local current = redis.call('GET', @claim)
        if current and owner(current) ~= @id then return { 'Held', current, tostring(age(current)) } end
        redis.call('SET', @claim, claim(@id, at, @token))
        return { 'Claimed', tostring(at), current or '' }
        """);

    /// <summary>
    /// Takes over <c>@claim</c> for user <c>@id</c> if it is still <c>@seen</c> and at least <c>@grace</c>
    /// milliseconds old, or stamped as far ahead: the caller found that its user does not hold the value.
    /// Answers as <see cref="Set"/>.
    /// </summary>
    public static readonly LuaScript TakeOver = LuaScript.Prepare(Lua +
        """
        local at = now()
        local current = redis.call('GET', @claim)
        if current ~= @seen then return { 'Held', current or '', '0' } end
        local old = age(current)
        if math.abs(old) < tonumber(@grace) then return { 'Held', current, tostring(old) } end
        redis.call('SET', @claim, claim(@id, at, @token))
        return { 'Claimed', tostring(at), current }
        """);

    /// <summary>
    /// Removes <c>@claim</c> if it is still <c>@mine</c>: how a write that failed gives up a claim it made, and
    /// how a write that succeeded gives up a value its user no longer holds. Answers 1 when it removed it.
    /// </summary>
    public static readonly LuaScript Release = LuaScript.Prepare(
        """
        if redis.call('GET', @claim) ~= @mine then return 0 end
        redis.call('DEL', @claim)
        return 1
        """);

    /// <summary>
    /// Removes <c>@claim</c> if it is still <c>@seen</c> and at least <c>@grace</c> milliseconds old, or stamped
    /// as far ahead (see <see cref="StoreLayout.ClaimGrace"/>): the repair found that the user it names does
    /// not hold the value, and a write still in flight would be younger. Answers 1 when it removed it.
    /// </summary>
    public static readonly LuaScript RemoveLeftover = LuaScript.Prepare(Lua +
        """
        local current = redis.call('GET', @claim)
        if current ~= @seen then return 0 end
        if math.abs(age(current)) < tonumber(@grace) then return 0 end
        redis.call('DEL', @claim)
        return 1
        """);
}
