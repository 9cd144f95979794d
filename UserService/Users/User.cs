namespace UserService.Users;

/// <summary>A user as the service knows it. <see cref="Version"/> changes with every write and is the ETag.</summary>
public sealed record User(
    long Id,
    string Username,
    string Email,
    string? DisplayName,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Version)
{
    public string ETag => $"\"{Version}\"";
}

/// <summary>The fields a client may set, on create and on replace.</summary>
public sealed record UserFields(string Username, string Email, string? DisplayName);
