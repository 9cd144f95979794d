using System.Net;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>A caller's limit holds across the replicas behind the AppHost: more replicas do not mean more requests.</summary>
public sealed class SharedRateLimitTests
{
    private const int Limit = 10;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OneCallerSendingToBothReplicasGetsTheLimitOnceInTotal()
    {
        // A window of a day: the test never straddles two of them.
        await using var host = await RunningAppHost.StartAsync(
            Engines.Garnet,
            replicas: 2,
            settings: new Dictionary<string, string> { [ServiceSettings.PermitLimit] = Limit.ToString(), ["RateLimiting:Window"] = "1.00:00:00" },
            cancellationToken: Cancellation);
        var token = TestTokens.Create(subject: $"one-caller-{Guid.NewGuid():N}");
        var replicas = (await host.ReplicasAsync(expected: 2)).Select(replica => replica.CreateApiClient().Authorize(token)).ToList();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3 * Limit; i++)
        {
            using var response = await replicas[i % 2].GetAsync("/api/users?limit=1", Cancellation);
            statuses.Add(response.StatusCode);
        }

        replicas.ForEach(replica => replica.Dispose());
        Assert.Equal(Limit, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(2 * Limit, statuses.Count(status => status == HttpStatusCode.TooManyRequests));
    }
}
