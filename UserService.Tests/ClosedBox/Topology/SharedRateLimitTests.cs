using System.Net;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>
/// A caller's limit holds across the replicas behind the AppHost: more replicas do not mean more requests.
/// And while the store is down, the limiter refuses nobody for it: each replica counts on its own.
/// </summary>
public sealed class SharedRateLimitTests
{
    private const int Limit = 10;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OneCallerSendingToBothReplicasGetsTheLimitOnceInTotalAndTheStoresOutageRefusesNobody()
    {
        // A window of a day: the test never straddles two of them. And slices granted late on a busy machine
        // still count, rather than send a replica to count on its own.
        await using var host = await RunningAppHost.StartAsync(
            Engines.Garnet,
            replicas: 2,
            settings: new Dictionary<string, string>
            {
                [ServiceSettings.PermitLimit] = Limit.ToString(),
                [ServiceSettings.RateLimitWindow] = "1.00:00:00",
                ["RateLimiting:StoreTimeout"] = "00:00:05",
            },
            cancellationToken: Cancellation);
        var token = TestTokens.Create(subject: $"one-caller-{Guid.NewGuid():N}");
        var found = await host.ReplicasAsync(expected: 2);
        var replicas = found.Select(replica => replica.CreateApiClient().Authorize(token)).ToList();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3 * Limit; i++)
        {
            using var response = await replicas[i % 2].GetAsync("/api/users?limit=1", Cancellation);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(Limit, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(2 * Limit, statuses.Count(status => status == HttpStatusCode.TooManyRequests));

        // With the store down, another caller within the limit gets the store's 503, never the limiter's 429 or a 500.
        await host.ExecuteCommandAsync(AppHost.ResourceNames.Cache, Aspire.Hosting.ApplicationModel.KnownResourceCommands.StopCommand);
        var outageCaller = TestTokens.Create(subject: $"in-outage-{Guid.NewGuid():N}");
        var other = found.Select(replica => replica.CreateApiClient().Authorize(outageCaller)).ToList();
        var duringOutage = new List<HttpStatusCode>();
        for (var i = 0; i < Limit; i++)
        {
            using var response = await other[i % 2].GetAsync("/api/users/1", Cancellation);
            duringOutage.Add(response.StatusCode);
        }

        replicas.Concat(other).ToList().ForEach(client => client.Dispose());
        Assert.All(duringOutage, status => Assert.Equal(HttpStatusCode.ServiceUnavailable, status));
    }
}
