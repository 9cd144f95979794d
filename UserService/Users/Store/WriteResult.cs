namespace UserService.Users.Store;

/// <summary>How a write ended: applied, or why not.</summary>
public enum WriteOutcome
{
    Done,
    NotFound,
    UsernameTaken,
    EmailTaken,
    VersionMismatch,
    TooMuchContention,
}

/// <summary>A write's outcome, and the user as the write left it when it was applied.</summary>
public readonly record struct WriteResult(WriteOutcome Outcome, User? User = null);

/// <summary>A page of users in id order, and whether another page follows.</summary>
public sealed record UserPage(IReadOnlyList<User> Users, bool HasMore);
