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
}
