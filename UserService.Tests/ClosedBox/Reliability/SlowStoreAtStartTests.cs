using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Reliability;

/// <summary>
/// A store that stalls while the service starts delays the service's readiness and its seed, never its
/// life: the process stays up, reports unready, then ready, and the Development seed lands once the store answers.
/// </summary>
public sealed class SlowStoreAtStartTests
{
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StoreStalledForFiveSecondsAtStartLeavesTheServiceUnreadyThenReady()
    {
        // A store of its own: the stall must not reach other tests.
        await using var store = new GarnetStoreServer();
        await store.InitializeAsync();
        var connectionString = await store.ClaimEmptyDatabaseAsync();

        await store.PauseAsync();
        var stalled = Stopwatch.StartNew();
        await using var service = await ServiceProcess.StartAsync(connectionString, environment: "Development", waitUntilReady: false);
        using var management = service.CreateManagementClient();
        var whileStalled = await Eventually.MatchAsync(
            cancellation => Eventually.ProbeAsync(management, "/health", cancellation), status => status == HttpStatusCode.ServiceUnavailable, Bound);
        await Task.Delay(Stall - stalled.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero, Cancellation);
        var exitedWhileStalled = service.HasExited;
        await store.ResumeAsync();

        var afterwards = await Eventually.MatchAsync(cancellation => Eventually.ProbeAsync(management, "/health", cancellation), status => status == HttpStatusCode.OK, Bound);
        using var api = service.CreateApiClient();
        var seeded = await Eventually.MatchAsync(
            cancellation => api.GetFromJsonAsync<UserDto[]>("/api/users", cancellation), users => users?.Length >= 2, Bound);

        Assert.True(stalled.Elapsed >= Stall, $"The store was stalled for {stalled.Elapsed} only.");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, whileStalled);
        Assert.False(exitedWhileStalled, string.Join("\n", service.Output));
        Assert.Equal(HttpStatusCode.OK, afterwards);
        Assert.False(service.HasExited);
        Assert.Equal(["alice", "bob"], seeded!.Select(user => user.Username));
    }
}
