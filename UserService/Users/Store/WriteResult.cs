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

/// <summary>The document kept per user; the id is the field it is kept under.</summary>
internal sealed record StoredUser(
    string Username,
    string Email,
    string? DisplayName,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Version)
{
    public User WithId(long id) => new(id, Username, Email, DisplayName, CreatedAt, UpdatedAt, Version);
}
