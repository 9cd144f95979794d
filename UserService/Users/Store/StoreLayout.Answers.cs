using StackExchange.Redis;

namespace UserService.Users.Store;

public static partial class StoreLayout
{
    /// <summary>What a write script answers, by name: the scripts return these words.</summary>
    public enum ScriptAnswer
    {
        Applied,

        /// <summary>The document is no longer the one the write was based on.</summary>
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

        /// <summary>The idempotency key was used for this request before: its first answer follows.</summary>
        Replayed,

        /// <summary>An id for a create under an idempotency key: the id follows.</summary>
        Reserved,

        /// <summary>The claim is the write's now: the store time it was set at, and the value it replaced, follow.</summary>
        Claimed,

        /// <summary>Another user's claim: its value, and its age in milliseconds, follow.</summary>
        Held,
    }

    /// <summary>Reads a script's answer; a word that is not a <see cref="ScriptAnswer"/> is a bug, not data.</summary>
    public static ScriptAnswer AnswerOf(RedisResult result) =>
        Enum.TryParse<ScriptAnswer>(result.ToString(), ignoreCase: false, out var answer) && answer.ToString() == result.ToString()
            ? answer
            : throw new InvalidOperationException($"A store script answered '{result}', which is not a {nameof(ScriptAnswer)}.");
}
