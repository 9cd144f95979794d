using System.ComponentModel.DataAnnotations;
using System.Net.Mail;
using System.Text.Json.Serialization;

namespace UserService.Users;

/// <summary>
/// What a client sends to create a user or to replace its fields. The server assigns the id and the
/// timestamps; any other property is refused.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UserRequest(
    [property: Required(ErrorMessage = "username is required."),
        StringLength(UserRules.MaxUsernameLength, MinimumLength = UserRules.MinUsernameLength, ErrorMessage = "username must be 3 to 32 characters long."),
        RegularExpression(UserRules.UsernamePattern, ErrorMessage = "username may contain only lowercase letters a-z, digits 0-9, '.', '_' and '-'.")]
    string Username,
    [property: Required(ErrorMessage = "email is required."),
        StringLength(UserRules.MaxEmailLength, ErrorMessage = "email must be at most 254 characters long."),
        Mailbox(ErrorMessage = "email must be a single address such as name@example.com, in ASCII (a domain in other scripts in its xn-- form).")]
    string Email,
    [property: StringLength(UserRules.MaxDisplayNameLength, ErrorMessage = "displayName must be at most 100 characters long."),
        PrintableText(ErrorMessage = "displayName must not contain control characters such as line breaks.")]
    string? DisplayName = null)
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
    public const string UsernamePattern = "^[a-z0-9._-]+$";

    /// <summary>
    /// Printable ASCII: every username and email is, so that a lookalike (a Cyrillic a, a Kelvin sign for K)
    /// can never stand beside its twin, and case is folded one way only.
    /// </summary>
    public const string AsciiPattern = "^[\\x21-\\x7E]+$";
}

/// <summary>
/// A single mailbox such as name@example.com, in ASCII: stricter than <see cref="EmailAddressAttribute"/>,
/// which only looks for an '@' that is neither first nor last. The API document calls it format <c>email</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class MailboxAttribute : ValidationAttribute
{
    public MailboxAttribute()
        : base("The field {0} must be a single address such as name@example.com.")
    {
    }

    public override bool IsValid(object? value) =>
        value is not string email
        || (MailAddress.TryCreate(email, out var address)
            && address.Address == email
            && address.DisplayName.Length == 0
            && address.Host.Contains('.', StringComparison.Ordinal)
            // ASCII only: one way to write each address, and no lookalike beside its twin.
            && email.All(c => char.IsAscii(c) && !char.IsWhiteSpace(c) && !char.IsControl(c)));
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
