using System.Text.Json.Serialization;

namespace UserService.Users;

/// <summary>
/// A user as the service knows it. <see cref="Version"/> changes with every write and is the ETag. The store
/// keeps it as JSON without the id, which is the field it is kept under.
/// </summary>
public sealed record User(
    [property: JsonIgnore] long Id,
    string Username,
    string Email,
    string? DisplayName,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Version)
{
    [JsonIgnore]
    public string ETag => $"\"{Version}\"";
}

/// <summary>The fields a client may set, on create and on replace.</summary>
public sealed record UserFields(string Username, string Email, string? DisplayName);
