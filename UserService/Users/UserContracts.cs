using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using UserService.OpenApi;

namespace UserService.Users;

/// <summary>
/// What a client sends to create a user or to replace its fields. The server assigns the id and the
/// timestamps; any other property is refused.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UserRequest(
    [property: Required(ErrorMessage = "username is required."),
        TextLength(UserRules.MaxUsernameLength, MinimumLength = UserRules.MinUsernameLength, ErrorMessage = "username must be 3 to 32 characters long."),
        RegularExpression(UserRules.UsernamePattern, ErrorMessage = "username may contain only lowercase letters a-z, digits 0-9, '.', '_' and '-'.")]
    string Username,
    [property: Required(ErrorMessage = "email is required."),
        TextLength(UserRules.MaxEmailLength, ErrorMessage = "email must be at most 254 characters long."),
        Mailbox(ErrorMessage = "email must be a single address such as name@example.com, in ASCII (a domain in other scripts in its xn-- form).")]
    string Email,
    [property: TextLength(UserRules.MaxDisplayNameLength, ErrorMessage = "displayName must be at most 100 characters long."),
        RegularExpression(UserRules.PrintablePattern, ErrorMessage = "displayName must not contain control characters such as line breaks.")]
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

    /// <summary>A mailbox: see <see cref="MailboxAttribute"/>. ASCII only, so one way to write each address.</summary>
    public const string EmailPattern =
        "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*" +
        "@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$";

    /// <summary>
    /// No control character, C0 (NUL, line breaks, escapes), DEL or C1 (such as NEL, U+0085): none has a place
    /// in a name. Written as a pattern, so that the API document says it.
    /// </summary>
    public const string PrintablePattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$";
}

/// <summary>
/// A length in characters as JSON Schema counts them, Unicode code points: an emoji is one, where
/// <see cref="StringLengthAttribute"/> counts the two UTF-16 units .NET stores it in. The API document
/// takes its minLength and maxLength from the base attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class TextLengthAttribute(int maximumLength) : StringLengthAttribute(maximumLength)
{
    public override bool IsValid(object? value)
    {
        if (value is not string text)
        {
            return true;
        }

        var length = text.EnumerateRunes().Count();
        return length >= MinimumLength && length <= MaximumLength;
    }
}

/// <summary>
/// A single mailbox such as name@example.com, in ASCII: a dot-atom local part (no quoted one) at a host name
/// with a dot (no IP literal). Stricter than <see cref="EmailAddressAttribute"/>, which only looks for an '@'
/// that is neither first nor last. A pattern, so that the API document says exactly this, beside format
/// <c>email</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class MailboxAttribute() : RegularExpressionAttribute(UserRules.EmailPattern), ISchemaFormat
{
    public string Format => "email";
}
