using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using UserService.Users;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// Bearer tokens as an identity provider would issue them, signed with a key the tests hand the service.
/// The tests are an issuer of their own, next to the <c>dotnet user-jwts</c> one a developer may have, for
/// the audience <c>dotnet user-jwts</c> uses in Development: the same tokens work in process and through
/// the AppHost.
/// </summary>
public static class TestTokens
{
    public const string Issuer = "userservice-tests";
    public const string Audience = "http://localhost:5080";
    public const string Subject = "test-user";

    public static readonly string[] AllScopes = [UsersScopes.Read, UsersScopes.Write];

    /// <summary>The signing key, base64 as <c>Authentication:Schemes:Bearer:SigningKeys:n:Value</c> takes it.</summary>
    public static string SigningKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The configuration that makes a service accept these tokens, at index 1 of the issuers and keys:
    /// index 0 is where <c>dotnet user-jwts</c> puts its own.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> ServiceSettings()
    {
        const string Prefix = "Authentication:Schemes:Bearer";
        yield return new($"{Prefix}:ValidIssuers:1", Issuer);
        yield return new($"{Prefix}:ValidAudiences:1", Audience);
        yield return new($"{Prefix}:SigningKeys:1:Issuer", Issuer);
        yield return new($"{Prefix}:SigningKeys:1:Value", SigningKey);
    }

    public static string Create(
        IEnumerable<string>? scopes = null,
        DateTime? expires = null,
        string issuer = Issuer,
        string audience = Audience,
        string? signingKey = null,
        string subject = Subject)
    {
        var notBefore = (expires ?? DateTime.UtcNow.AddHours(1)).AddHours(-2);
        var claims = new List<Claim> { new("sub", subject) };
        claims.AddRange((scopes ?? AllScopes).Select(scope => new Claim("scope", scope)));

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            NotBefore = notBefore,
            IssuedAt = notBefore,
            Expires = expires ?? DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Convert.FromBase64String(signingKey ?? SigningKey)), SecurityAlgorithms.HmacSha256),
        });
    }

    public static HttpClient Authorize(this HttpClient client, string? token = null)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? Create());
        return client;
    }
}
