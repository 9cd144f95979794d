using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace UserService.Users;

/// <summary>What a client sends to create a user. The server assigns the id; any other property is refused.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateUserRequest(
    [Required, StringLength(32, MinimumLength = 3), RegularExpression("^[a-z0-9._-]+$")] string Username,
    [Required, EmailAddress, StringLength(254)] string Email);

/// <summary>What a client receives: the shape the original service answered with.</summary>
public sealed record UserResponse(long Id, string Username, string Email)
{
    public static UserResponse From(User user) => new(user.Id, user.Username, user.Email);
}
