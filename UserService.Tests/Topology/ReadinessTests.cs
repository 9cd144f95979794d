using System.Net;
using AppHost;
using Aspire.Hosting.ApplicationModel;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.Topology;

/// <summary>
/// Readiness includes the store and liveness does not: while the cache is down an orchestrator stops
/// routing to the service but does not restart it, and routing resumes when the cache is back.
/// </summary>
public sealed class ReadinessTests
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task HealthFollowsTheCacheWhileLivenessStaysUp()
    {
        var cancellation = TestContext.Current.CancellationToken;
        await using var host = await RunningAppHost.StartAsync(Engines.Garnet, cancellationToken: cancellation);
        using var management = host.CreateManagementClient();

        await host.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Cache, KnownResourceCommands.StopCommand, cancellation);
        var healthWhileDown = await StatusAsync(management, "/health", HttpStatusCode.ServiceUnavailable);
        var livenessWhileDown = await StatusAsync(management, "/alive", HttpStatusCode.OK);

        await host.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Cache, KnownResourceCommands.StartCommand, cancellation);
        var healthWhenBack = await StatusAsync(management, "/health", HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, healthWhileDown);
        Assert.Equal(HttpStatusCode.OK, livenessWhileDown);
        Assert.Equal(HttpStatusCode.OK, healthWhenBack);
    }

    /// <summary>The probe's status once it reads <paramref name="expected"/>, or the last one read when time ran out.</summary>
    private static Task<HttpStatusCode> StatusAsync(HttpClient management, string path, HttpStatusCode expected) =>
        Eventually.MatchAsync(
            async cancellation =>
            {
                using var response = await management.GetAsync(path, cancellation);
                return response.StatusCode;
            },
            status => status == expected,
            ProbeTimeout);
}
