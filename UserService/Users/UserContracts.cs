using System.ComponentModel.DataAnnotations;
using System.Net.Mail;
using System.Text.Json.Serialization;

namespace UserService.Users;

/// <summary>What a client sends to create a user. The server assigns the id and the timestamps.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateUserRequest(
    [Required, Username] string Username,
    [Required, Email] string Email,
    [StringLength(UserRules.MaxDisplayNameLength), PrintableText] string? DisplayName = null)
{
    public UserFields ToFields() => new(Username, Email, DisplayName);
}

/// <summary>What a client sends to replace a user's mutable fields.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UpdateUserRequest(
    [Required, Username] string Username,
    [Required, Email] string Email,
    [StringLength(UserRules.MaxDisplayNameLength), PrintableText] string? DisplayName = null)
{
    public UserFields ToFields() => new(Username, Email, DisplayName);
}

/// <summary>What a client receives. The first three fields are the original service's shape.</summary>
public sealed record UserResponse(
    long Id,
    string Username,
    string Email,
    string? DisplayName,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static UserResponse From(User user) =>
        new(user.Id, user.Username, user.Email, user.DisplayName, user.CreatedAt, user.UpdatedAt);
}

public static class UserRules
{
    public const int MinUsernameLength = 3;
    public const int MaxUsernameLength = 32;
    public const int MaxEmailLength = 254;
    public const int MaxDisplayNameLength = 100;
}

/// <summary>3 to 32 lowercase letters, digits, '.', '_' or '-'.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class UsernameAttribute : ValidationAttribute
{
    public UsernameAttribute()
        : base($"A username is {UserRules.MinUsernameLength} to {UserRules.MaxUsernameLength} characters of lowercase letters, digits, '.', '_' and '-'.")
    {
    }

    public override bool IsValid(object? value) =>
        value is not string username
        || (username.Length is >= UserRules.MinUsernameLength and <= UserRules.MaxUsernameLength
            && username.All(static c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-'));
}

/// <summary>A single address, as a mail server would take it, of at most 254 characters.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class EmailAttribute : ValidationAttribute
{
    public EmailAttribute()
        : base($"An email is a single address such as name@example.com, of at most {UserRules.MaxEmailLength} characters.")
    {
    }

    public override bool IsValid(object? value) =>
        value is not string email
        || (email.Length <= UserRules.MaxEmailLength
            && MailAddress.TryCreate(email, out var address)
            && address.Address == email
            && address.DisplayName.Length == 0
            && address.Host.Contains('.', StringComparison.Ordinal)
            && !email.Any(char.IsWhiteSpace));
}

/// <summary>Text without control characters (NUL, newlines, escapes), which have no place in a name.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class PrintableTextAttribute : ValidationAttribute
{
    public PrintableTextAttribute()
        : base("The field {0} must not contain control characters.")
    {
    }

    public override bool IsValid(object? value) => value is not string text || !text.Any(char.IsControl);
}
