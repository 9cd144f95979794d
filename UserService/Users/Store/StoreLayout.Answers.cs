using StackExchange.Redis;

namespace UserService.Users.Store;

public static partial class StoreLayout
{
    /// <summary>What a store script answers, by name: every script returns one of these words first.</summary>
    public enum ScriptAnswer
    {
        Applied,

        /// <summary>The document is no longer the one the write was based on, or nothing needed changing.</summary>
        Changed,

        /// <summary>The user no longer exists.</summary>
        Gone,

        /// <summary>The write's claims are older than <see cref="WriteDeadline"/>: it claims again.</summary>
        Late,

        /// <summary>A user already has the new user's id: the create takes another.</summary>
        IdTaken,

        UsernameTaken,
        EmailTaken,

        /// <summary>The idempotency key was first used for another request.</summary>
        KeyReused,

        /// <summary>The idempotency key was used for this request before: its first answer and document follow.</summary>
        Replayed,

        /// <summary>No outcome is kept for the create yet.</summary>
        Pending,

        /// <summary>An id for a create under an idempotency key: the id, and '1' if an earlier attempt reserved it, follow.</summary>
        Reserved,

        /// <summary>The claim is the write's now: the store time it was set at, and the value it replaced, follow.</summary>
        Claimed,

        /// <summary>Another user's claim, or another replica's lease: the claim's value and age in milliseconds follow.</summary>
        Held,

        /// <summary>The lease is this replica's.</summary>
        Leased,

        /// <summary>A claim or a lease given up, or a leftover claim removed.</summary>
        Released,

        /// <summary>A claim or a lease left as it is: it is no longer the one the caller saw.</summary>
        Kept,

        /// <summary>A document moved to its bucket's quarantine.</summary>
        Quarantined,

        /// <summary>A user of the layout before the buckets moved into its bucket.</summary>
        Moved,

        /// <summary>The store process's run id follows.</summary>
        Running,
    }

    /// <summary>A script's answer: its word, and what follows it (<c>this[0]</c> is the first value after the word).</summary>
    public readonly struct ScriptReply
    {
        private readonly RedisResult[] items;

        private ScriptReply(ScriptAnswer answer, RedisResult[] items) => (Answer, this.items) = (answer, items);

        public ScriptAnswer Answer { get; }

        public RedisValue this[int index] => (RedisValue)items[index + 1];

        /// <summary>Reads <c>{ word, ... }</c>; a word that is not a <see cref="ScriptAnswer"/> is a bug, not data.</summary>
        public static ScriptReply Of(RedisResult result)
        {
            var items = (RedisResult[])result!;
            var word = items[0].ToString();
            return Enum.TryParse<ScriptAnswer>(word, ignoreCase: false, out var answer) && answer.ToString() == word
                ? new(answer, items)
                : throw new InvalidOperationException($"A store script answered '{word}', which is not a {nameof(ScriptAnswer)}.");
        }
    }

    /// <summary>Runs a store script: its keys as KEYS, which a cluster routes by, its values as ARGV, in the order its first lines name them.</summary>
    internal static async Task<ScriptReply> RunAsync(this IDatabase database, string script, RedisKey[] keys, RedisValue[] values) =>
        ScriptReply.Of(await database.ScriptEvaluateAsync(script, keys, values));
}
