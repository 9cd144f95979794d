using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AppHost;
using Aspire.Hosting.ApplicationModel;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>
/// The cache goes away and comes back while the service runs: calls fail fast with 503 and Retry-After,
/// readiness follows the cache while liveness does not, and service resumes without a restart.
/// </summary>
public sealed class StoreOutageTests
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FailFastBound = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(5);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OutageAnswersServiceUnavailableFastAndServiceResumesWhenTheCacheReturns()
    {
        await using var host = await RunningAppHost.StartAsync(Engines.Garnet, cancellationToken: Cancellation);
        using var api = host.CreateApiClient();
        using var management = host.CreateManagementClient();
        var (_, existing) = await api.CreateAsync(TestUsers.Unique());

        await host.ExecuteCommandAsync(ResourceNames.Cache, KnownResourceCommands.StopCommand);
        var healthWhileDown = await StatusAsync(management, "/health", HttpStatusCode.ServiceUnavailable);

        var calls = new Func<Task<HttpResponseMessage>>[]
        {
            () => api.GetAsync($"/api/users/{existing.Id}", Cancellation),
            () => api.GetAsync("/api/users?limit=5", Cancellation),
            () => api.PostAsJsonAsync("/api/users", TestUsers.Unique(), Cancellation),
            () => api.DeleteAsync($"/api/users/{existing.Id}", Cancellation),
        };
        foreach (var call in calls.Concat(calls))
        {
            var elapsed = Stopwatch.StartNew();
            using var response = await call();
            elapsed.Stop();

            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "A 503 must say when to retry.");
            Assert.True(elapsed.Elapsed < FailFastBound, $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri} took {elapsed.Elapsed}.");
        }

        var livenessWhileDown = await StatusAsync(management, "/alive", HttpStatusCode.OK);

        await host.ExecuteCommandAsync(ResourceNames.Cache, KnownResourceCommands.StartCommand);
        await host.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Cache, Cancellation).WaitAsync(ProbeTimeout, Cancellation);
        var back = Stopwatch.StartNew();
        var readAfterwards = await Eventually.StatusAsync(api, $"/api/users/{existing.Id}", status => status == HttpStatusCode.OK, RecoveryBound);
        back.Stop();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, healthWhileDown);
        Assert.Equal(HttpStatusCode.OK, livenessWhileDown);
        Assert.Equal(HttpStatusCode.OK, readAfterwards);
        Assert.True(back.Elapsed < RecoveryBound + TimeSpan.FromSeconds(1), $"Service resumed {back.Elapsed} after the cache was healthy again.");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(management, "/health", HttpStatusCode.OK));
    }

    /// <summary>The probe's status once it reads <paramref name="expected"/>, or the last one read when time ran out.</summary>
    private static Task<HttpStatusCode> StatusAsync(HttpClient management, string path, HttpStatusCode expected) =>
        Eventually.StatusAsync(management, path, status => status == expected, ProbeTimeout);
}
