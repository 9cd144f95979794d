using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AppHost;

namespace Bench;

/// <summary>
/// A signing key the service is told to trust, and one bearer token signed with it (HS256) that grants
/// both scopes, as an identity provider would issue it.
/// </summary>
internal sealed class Tokens
{
    public const string Issuer = "userservice-bench";
    public const string Audience = "userservice";

    private readonly byte[] key = RandomNumberGenerator.GetBytes(32);

    public IEnumerable<KeyValuePair<string, string>> ServiceSettings() =>
    [
        new("Authentication__Schemes__Bearer__ValidIssuer", Issuer),
        new("Authentication__Schemes__Bearer__ValidAudiences__0", Audience),
        new("Authentication__Schemes__Bearer__SigningKeys__0__Issuer", Issuer),
        new("Authentication__Schemes__Bearer__SigningKeys__0__Value", Convert.ToBase64String(key)),
    ];

    public string Create()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "HS256", ["typ"] = "JWT" }));
        var payload = Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["sub"] = "bench",
            ["scope"] = string.Join(' ', UserServiceContract.Scopes),
            ["nbf"] = now - 60,
            ["iat"] = now - 60,
            ["exp"] = now + 3600,
        }));
        var signature = Encode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header}.{payload}")));
        return $"{header}.{payload}.{signature}";
    }

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
