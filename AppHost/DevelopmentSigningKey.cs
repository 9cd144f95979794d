using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.Extensions.Configuration.UserSecrets;

namespace AppHost;

/// <summary>
/// Makes sure the service's user secrets hold a <c>dotnet user-jwts</c> signing key before it starts, in the
/// format that tool writes. The service then watches a secrets file that exists (the configuration system
/// does not watch a folder that appears later), so the README's token, made after the start, is accepted,
/// and a key that is reset or removed stops being accepted, both without a restart.
/// </summary>
public static class DevelopmentSigningKey
{
    /// <summary>The issuer <c>dotnet user-jwts</c> signs as, which the service trusts in Development.</summary>
    public const string Issuer = "dotnet-user-jwts";

    private const string SigningKeysKey = "Authentication:Schemes:Bearer:SigningKeys";

    public static IResourceBuilder<ProjectResource> WithDevelopmentSigningKey(this IResourceBuilder<ProjectResource> service)
    {
        if (service.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            service.ApplicationBuilder.Eventing.Subscribe<BeforeStartEvent>((_, cancellationToken) =>
                EnsureAsync(service.Resource.GetProjectMetadata().ProjectPath, cancellationToken));
        }

        return service;
    }

    /// <summary>Adds a key for <see cref="Issuer"/> to the project's secrets unless one is there.</summary>
    public static async Task EnsureAsync(string projectPath, CancellationToken cancellationToken)
    {
        var secretsId = XDocument.Load(projectPath).Descendants("UserSecretsId").FirstOrDefault()?.Value
            ?? throw new InvalidOperationException($"{projectPath} has no UserSecretsId.");
        var path = PathHelper.GetSecretsPathFromSecretsId(secretsId);

        var secrets = File.Exists(path)
            ? JsonNode.Parse(await File.ReadAllTextAsync(path, cancellationToken)) as JsonObject ?? []
            : [];
        if (secrets[SigningKeysKey] is not JsonArray keys)
        {
            secrets[SigningKeysKey] = keys = [];
        }

        if (keys.Any(key => (string?)key?["Issuer"] == Issuer))
        {
            return;
        }

        const int Length = 32;
        keys.Add(new JsonObject
        {
            ["Id"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)),
            ["Issuer"] = Issuer,
            ["Value"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(Length)),
            ["Length"] = Length,
        });

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, secrets.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
    }
}
