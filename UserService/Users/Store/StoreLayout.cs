using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// The one place that knows how users are laid out in Redis, and the scripts that change them:
/// <list type="bullet">
/// <item><see cref="Data"/>, a hash from id to the user's JSON document;</item>
/// <item><see cref="Order"/>, a sorted set of ids, for keyset pagination;</item>
/// <item><see cref="ByUsername"/> and <see cref="ByEmail"/>, hashes from the lowercased value to the id;</item>
/// <item><see cref="NextId"/>, the id counter; <see cref="Generation"/>, bumped by every write;</item>
/// <item><see cref="Quarantine"/>, a hash from id to a document the service could not read, kept for an operator.</item>
/// </list>
/// Beside the users, the same store holds the outcomes of creates sent with an Idempotency-Key
/// (<see cref="IdempotencyRecord"/>), the output cache's entries (<c>__MSOCV_</c>…), and the counters
/// of the upkeep part of this class: cached answers per window, and each caller's rate-limit permits.
/// <para>
/// Every write is one script that changes the document and its indexes together, so no reader ever sees an
/// index entry without its user. Scripts name every key they touch (Garnet locks exactly those).
/// </para>
/// <para>
/// A crash can still cut a script short: Garnet logs and replays a script's writes one by one. So each
/// script writes in an order where any prefix only leaves index entries that point at no user, or at a user
/// who does not point back: readers ignore those, and the repair removes them.
/// </para>
/// The benchmark's baseline compiles this file too, so that it reads the same layout with the same script.
/// </summary>
public static partial class StoreLayout
{
    public static readonly RedisKey Data = "users:data";
    public static readonly RedisKey Order = "users:order";
    public static readonly RedisKey ByUsername = "users:by-username";
    public static readonly RedisKey ByEmail = "users:by-email";
    public static readonly RedisKey NextId = "users:next-id";
    public static readonly RedisKey Generation = "users:generation";
    public static readonly RedisKey Quarantine = "users:quarantine";

    /// <summary>Users with an id above <c>@after</c>, at most <c>@count</c>, as id and document in turn.</summary>
    public static readonly LuaScript Page = LuaScript.Prepare(
        """
        local ids = redis.call('ZRANGEBYSCORE', @order, '(' .. @after, '+inf', 'LIMIT', 0, @count)
        if #ids == 0 then return ids end
        local documents = redis.call('HMGET', @data, unpack(ids))
        local page = {}
        for i = 1, #ids do
            if documents[i] then
                page[#page + 1] = ids[i]
                page[#page + 1] = documents[i]
            end
        end
        return page
        """);

    /// <summary>The id and document that an index entry points at, or nothing.</summary>
    public static readonly LuaScript Lookup = LuaScript.Prepare(
        """
        local id = redis.call('HGET', @index, @value)
        if not id then return {} end
        return { id, redis.call('HGET', @data, id) }
        """);

    // A value is taken when its entry points at another user who still exists. An entry whose user is gone
    // was left by a write that a crash cut short: the value is free.
    private const string Taken =
        """
        local function taken(index, value, id)
            local owner = redis.call('HGET', index, value)
            return owner and owner ~= id and redis.call('HEXISTS', @data, owner) == 1
        end

        """;

    // The create itself, shared by the scripts with and without an idempotency record.
    private const string CreateFunction = Taken +
        """
        local function create()
            if taken(@usernames, @username, '') then return 'UsernameTaken' end
            if taken(@emails, @email, '') then return 'EmailTaken' end
            redis.call('INCR', @generation)
            local id = redis.call('INCR', @nextId)
            redis.call('ZADD', @order, id, id)
            redis.call('HSET', @usernames, @username, id)
            redis.call('HSET', @emails, @email, id)
            redis.call('HSET', @data, id, @document)
            return id
        end

        """;

    /// <summary>Answers the new id, or <see cref="ScriptAnswer.UsernameTaken"/> or <see cref="ScriptAnswer.EmailTaken"/>.</summary>
    public static readonly LuaScript Create = LuaScript.Prepare(CreateFunction + "return create()");

    /// <summary>
    /// A create under an idempotency key (<see cref="IdempotencyRecord"/>). The first time, it answers as
    /// <see cref="Create"/> and keeps that answer and the document it wrote, with the request's
    /// <c>@fingerprint</c>, for <c>@ttl</c> seconds, in the same script: a write and its record land
    /// together. Afterwards it answers <c>{ 'Replayed', answer, document }</c> for the same request, and
    /// <see cref="ScriptAnswer.KeyReused"/> for another one.
    /// </summary>
    public static readonly LuaScript CreateOnce = LuaScript.Prepare(CreateFunction +
        """
        local record = redis.call('HMGET', @idempotency, 'fingerprint', 'answer', 'document')
        if record[1] then
            if record[1] ~= @fingerprint then return 'KeyReused' end
            return { 'Replayed', record[2], record[3] }
        end
        local answer = create()
        redis.call('HSET', @idempotency, 'fingerprint', @fingerprint, 'answer', answer, 'document', @document)
        redis.call('EXPIRE', @idempotency, @ttl)
        return answer
        """);

    /// <summary>
    /// Where the outcome of a create sent with an Idempotency-Key is kept: one key per caller and key value,
    /// hashed, so that neither a caller's keys nor their length reach the store's key space as they are.
    /// </summary>
    public static RedisKey IdempotencyRecord(string caller, string idempotencyKey) =>
        "users:idempotency:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller}\n{idempotencyKey}")));

    /// <summary>Replaces the document if it is still <c>@expected</c>; answers a <see cref="ScriptAnswer"/>.</summary>
    public static readonly LuaScript Update = LuaScript.Prepare(Taken +
        """
        local current = redis.call('HGET', @data, @id)
        if not current then return 'Gone' end
        if current ~= @expected then return 'Changed' end
        local renamed = @newUsername ~= @oldUsername
        local readdressed = @newEmail ~= @oldEmail
        if renamed and taken(@usernames, @newUsername, @id) then return 'UsernameTaken' end
        if readdressed and taken(@emails, @newEmail, @id) then return 'EmailTaken' end
        redis.call('INCR', @generation)
        if renamed then redis.call('HSET', @usernames, @newUsername, @id) end
        if readdressed then redis.call('HSET', @emails, @newEmail, @id) end
        redis.call('HSET', @data, @id, @document)
        if renamed then redis.call('HDEL', @usernames, @oldUsername) end
        if readdressed then redis.call('HDEL', @emails, @oldEmail) end
        return 'Applied'
        """);

    /// <summary>Deletes the user if its document is still <c>@expected</c>; answers a <see cref="ScriptAnswer"/>.</summary>
    public static readonly LuaScript Delete = LuaScript.Prepare(
        """
        local current = redis.call('HGET', @data, @id)
        if not current then return 'Gone' end
        if current ~= @expected then return 'Changed' end
        redis.call('INCR', @generation)
        redis.call('HDEL', @data, @id)
        redis.call('ZREM', @order, @id)
        redis.call('HDEL', @usernames, @username)
        redis.call('HDEL', @emails, @email)
        return 'Applied'
        """);

    /// <summary>What a write script answers, by name: the scripts return these words.</summary>
    public enum ScriptAnswer
    {
        Applied,
        UsernameTaken,
        EmailTaken,

        /// <summary>The document is no longer the one the write was based on.</summary>
        Changed,

        /// <summary>The user no longer exists.</summary>
        Gone,

        /// <summary>The idempotency key was first used for another request.</summary>
        KeyReused,

        /// <summary>The idempotency key was used for this request before: its first answer follows.</summary>
        Replayed,
    }

    /// <summary>Reads a script's answer; a word that is not a <see cref="ScriptAnswer"/> is a bug, not data.</summary>
    public static ScriptAnswer AnswerOf(RedisResult result) =>
        Enum.TryParse<ScriptAnswer>(result.ToString(), ignoreCase: false, out var answer) && answer.ToString() == result.ToString()
            ? answer
            : throw new InvalidOperationException($"A store script answered '{result}', which is not a {nameof(ScriptAnswer)}.");
}
