using System.Net;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Security;

/// <summary>Each caller gets its own allowance; the call past it is refused with 429 and told when to retry.</summary>
public sealed class RateLimitingTests(RateLimitedUserService factory) : IClassFixture<RateLimitedUserService>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CallPastTheLimitAnswersTooManyRequestsWithRetryAfter()
    {
        using var api = factory.CreateClient().Authorize(TestTokens.Create(subject: "busy-caller"));

        for (var i = 0; i < RateLimitedUserService.Limit; i++)
        {
            using var allowed = await api.GetAsync("/api/users?limit=1", Cancellation);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var refused = await api.GetAsync("/api/users?limit=1", Cancellation);

        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Equal("Too many requests", problem.Title);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task CallersAreLimitedSeparately()
    {
        using var first = factory.CreateClient().Authorize(TestTokens.Create(subject: "first-caller"));
        using var second = factory.CreateClient().Authorize(TestTokens.Create(subject: "second-caller"));
        for (var i = 0; i < RateLimitedUserService.Limit; i++)
        {
            (await first.GetAsync("/api/users?limit=1", Cancellation)).Dispose();
        }

        using var firstRefused = await first.GetAsync("/api/users?limit=1", Cancellation);
        using var secondAllowed = await second.GetAsync("/api/users?limit=1", Cancellation);

        Assert.Equal(HttpStatusCode.TooManyRequests, firstRefused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondAllowed.StatusCode);
    }

    [Fact]
    public async Task AnonymousCallersAreLimitedByAddress()
    {
        using var anonymous = factory.CreateClient();
        for (var i = 0; i < RateLimitedUserService.Limit; i++)
        {
            using var unauthorized = await anonymous.GetAsync("/api/users", Cancellation);
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }

        using var refused = await anonymous.GetAsync("/api/users", Cancellation);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
    }

    [Fact]
    public async Task CallersLimitIsSharedByEveryReplica()
    {
        // A second service on the same store: another replica, as far as the limit is concerned.
        using var replica = factory.WithWebHostBuilder(_ => { });
        var token = TestTokens.Create(subject: $"two-replicas-{Guid.NewGuid():N}");
        using var first = factory.CreateClient().Authorize(token);
        using var second = replica.CreateClient().Authorize(token);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= RateLimitedUserService.Limit; i++)
        {
            using var response = await (i % 2 == 0 ? first : second).GetAsync("/api/users?limit=1", Cancellation);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, RateLimitedUserService.Limit), HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task WithTheStoreDownEachReplicaCountsOnItsOwnAndTheLimiterFailsNothing()
    {
        using var storeDown = factory.WithWebHostBuilder(builder =>
            builder.UseSetting(ServiceSettings.Store, $"127.0.0.1:{FreePort.Next()},abortConnect=false"));
        using var api = storeDown.CreateClient().Authorize(TestTokens.Create(subject: $"outage-{Guid.NewGuid():N}"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= RateLimitedUserService.Limit; i++)
        {
            using var response = await api.GetAsync("/api/users/1", Cancellation);
            statuses.Add(response.StatusCode);
        }

        // The store's own answer while it is down, then the replica's own count.
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.ServiceUnavailable, RateLimitedUserService.Limit), HttpStatusCode.TooManyRequests], statuses);
    }
}
