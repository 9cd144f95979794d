namespace UserService.Users;

/// <summary>How a write ended: applied, or why not.</summary>
public enum WriteOutcome
{
    Done,
    NotFound,
    UsernameTaken,
    EmailTaken,
    VersionMismatch,
    TooMuchContention,
    IdempotencyKeyReused,
}

/// <summary>A create's Idempotency-Key, and the caller it belongs to: callers never share keys.</summary>
public sealed record IdempotencyKey(string Caller, string Key);

/// <summary>
/// A write's outcome, and the user as the write left it when it was applied, or as it is when the version a
/// write expected did not match. <see cref="Replayed"/>: the
/// outcome is the one a request with the same Idempotency-Key had before; nothing was written this time.
/// </summary>
public readonly record struct WriteResult(WriteOutcome Outcome, User? User = null, bool Replayed = false);

/// <summary>A page of users in id order, and where the next page starts: none when this is the last.</summary>
public sealed record UserPage(IReadOnlyList<User> Users, long? ContinueAfter);
