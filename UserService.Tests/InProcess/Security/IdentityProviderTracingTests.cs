using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using UserService.Tests.ClosedBox.Deployment;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Security;

/// <summary>
/// The JWT handler's fetches of the identity provider's metadata and keys are outgoing calls like any other:
/// client spans in the trace of the request that needed them, each attempt of the resilience pipeline a span
/// of its own. The provider answers its first request for each document with 503.
/// </summary>
public sealed class IdentityProviderTracingTests(GarnetUserService factory) : IClassFixture<GarnetUserService>, IAsyncDisposable
{
    private const string Audience = "api://userservice";
    private static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(30);

    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("userservice-identity-");

    [Fact]
    public async Task EachAttemptToFetchTheProvidersDocumentsIsAClientSpanInTheTraceOfTheRequestThatNeededThem()
    {
        await using var identity = await IdentityProvider.StartAsync(directory.FullName, unavailable: 1);
        using var providerCertificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(identity.TrustFile, TestContext.Current.CancellationToken));
        var exported = new ExportedActivities();
        await using var service = factory.WithWebHostBuilder(builder => builder
            .UseSetting("Authentication:Schemes:Bearer:Authority", identity.Authority)
            .UseSetting("Authentication:Schemes:Bearer:ValidAudiences:0", Audience)
            .ConfigureServices(services =>
            {
                services.AddOpenTelemetry().WithTracing(tracing => tracing.AddInMemoryExporter(exported));
                // The test's provider has a certificate of its own: the client trusts that one, and only on
                // this connection; the resilience and discovery handlers stay as the service adds them.
                services.AddHttpClient(Extensions.BackchannelClient).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
                {
                    SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == providerCertificate.GetCertHashString() },
                });
            }));
        using var api = service.CreateClient().Authorize(identity.CreateToken(Audience, "users:read"));
        var trace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/users");
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");

        using var response = await api.SendAsync(request, TestContext.Current.CancellationToken);
        var spans = await Eventually.MatchAsync(
            _ => Task.FromResult(exported.Snapshot().Where(span => span.TraceId == trace).ToList()),
            found => found.Any(span => span.Kind == ActivityKind.Server) && Attempts(found, IdentityProvider.KeysPath).Count == 2,
            ExportTimeout);

        // Accepted: 200, or 503 when the retry's wait left its store call no time (IdentityProviderOutageTests).
        Assert.NotEqual(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        // The provider runs in this process too: its server spans join the trace, as a provider's would.
        var server = Assert.Single(spans, span => span.Kind == ActivityKind.Server && span.GetTagItem("http.route") as string == "/api/users");
        foreach (var path in new[] { IdentityProvider.MetadataPath, IdentityProvider.KeysPath })
        {
            var attempts = Attempts(spans, path);
            Assert.Equal(["503", "200"], attempts.Select(span => span.GetTagItem("http.response.status_code")?.ToString()));
            Assert.All(attempts, attempt => Assert.True(DescendsFrom(attempt, server, spans), $"{attempt.DisplayName} is not under the request's span."));
        }
    }

    private static bool DescendsFrom(Activity span, Activity ancestor, List<Activity> spans)
    {
        for (var parent = span.ParentSpanId; parent != default; parent = spans.FirstOrDefault(s => s.SpanId == parent)?.ParentSpanId ?? default)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The outgoing calls to <paramref name="path"/>, in the order they started.</summary>
    private static List<Activity> Attempts(IEnumerable<Activity> spans, string path) =>
        [.. spans.Where(span => span.Kind == ActivityKind.Client && span.GetTagItem("url.full") is string url && new Uri(url).AbsolutePath == path).OrderBy(span => span.StartTimeUtc)];

    public ValueTask DisposeAsync()
    {
        directory.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }
}
