using System.Net;
using System.Text.RegularExpressions;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Deployment;

/// <summary>
/// The service trusting an OpenID Connect provider that is flaky when the service starts: each of its two
/// documents (the metadata, the signing keys) answers its first two requests with 503 and its third only
/// after two seconds. The JWT handler fetches them through the HttpClient factory's resilience pipeline, so
/// the caller's token is accepted once the provider answers, with no restart and no 401 in between; and the
/// Authority may be a name that service discovery resolves, as the AppHost gives one to a resource.
/// </summary>
public sealed partial class IdentityProviderOutageTests(RedisStoreServer store) : IAsyncDisposable
{
    private const string Audience = "api://userservice";

    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("userservice-identity-");

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("its address")]
    [InlineData("a service name")]
    public async Task TokensAreAcceptedOnceAFailingAndSlowIdentityProviderAnswersWithNo401InBetween(string authorityGivenAs)
    {
        Engines.RequireInstalled(Engines.RedisServer);
        await using var identity = await IdentityProvider.StartAsync(directory.FullName, unavailable: 2, slow: TimeSpan.FromSeconds(2));
        var settings = ServiceSettings.Common(trustTestTokens: false);
        if (authorityGivenAs == "a service name")
        {
            // As the AppHost would give a resource it references: service discovery resolves the name.
            settings["Authentication:Schemes:Bearer:Authority"] = "https://identity";
            settings["services:identity:https:0"] = identity.Authority;
        }
        else
        {
            settings["Authentication:Schemes:Bearer:Authority"] = identity.Authority;
        }

        settings["Authentication:Schemes:Bearer:ValidAudiences:0"] = Audience;
        // The machine's trust store, holding the provider's certificate.
        settings["SSL_CERT_FILE"] = identity.TrustFile;
        await using var service = await ServiceProcess.StartAsync(await store.ClaimEmptyDatabaseAsync(), settings: settings);
        using var api = new HttpClient { BaseAddress = service.Api }.Authorize(identity.CreateToken(Audience, "users:read"));
        using var management = service.CreateManagementClient();

        using var first = await api.GetAsync("/api/users", Cancellation);
        using var second = await api.GetAsync("/api/users", Cancellation);

        // The first call waited while the provider was retried, past its request's deadline: the store call it
        // then made was refused at once, and it answered 503 with Retry-After (or 200 on a fast machine),
        // never a 401 that would call a good token bad.
        Assert.True(
            first.StatusCode == HttpStatusCode.OK || first.StatusCode == HttpStatusCode.ServiceUnavailable && first.Headers.RetryAfter is not null,
            $"The first call answered {(int)first.StatusCode}:\n{string.Join('\n', service.Output)}");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False(service.HasExited);
        Assert.Equal(3, identity.RequestsTo(IdentityProvider.MetadataPath));
        Assert.Equal(3, identity.RequestsTo(IdentityProvider.KeysPath));

        // The fetches are outgoing calls like any other: the refused attempts and the answered ones are counted.
        var port = new Uri(identity.Authority).Port.ToString();
        var metrics = await Eventually.MatchAsync(
            cancellation => management.GetStringAsync("/metrics", cancellation),
            text => ClientCalls(text, port, "200") == 2,
            TimeSpan.FromSeconds(30));
        Assert.Equal(2, ClientCalls(metrics, port, "200"));
        Assert.Equal(4, ClientCalls(metrics, port, "503"));
    }

    /// <summary>The outgoing calls to <paramref name="port"/> that were answered <paramref name="status"/>, by the Prometheus endpoint.</summary>
    private static double ClientCalls(string metrics, string port, string status) =>
        ClientCallCount().Matches(metrics)
            .Where(match => match.Groups["labels"].Value.Contains($"server_port=\"{port}\"", StringComparison.Ordinal)
                && match.Groups["labels"].Value.Contains($"http_response_status_code=\"{status}\"", StringComparison.Ordinal))
            .Sum(match => double.Parse(match.Groups["count"].Value, System.Globalization.CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^http_client_request_duration_seconds_count\{(?<labels>[^}]*)\} (?<count>\S+)", RegexOptions.Multiline)]
    private static partial Regex ClientCallCount();

    public ValueTask DisposeAsync()
    {
        directory.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }
}
