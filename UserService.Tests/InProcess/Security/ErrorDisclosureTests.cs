using System.Net;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Security;

/// <summary>An unexpected failure answers 500 problem details with a trace id, and nothing of its cause.</summary>
public sealed class ErrorDisclosureTests(GarnetStoreServer store)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExceptionInAHandlerAnswersAProblemWithoutItsDetails(bool development)
    {
        await using UserServiceFactory factory = development ? new DevelopmentUserService(store) : new GarnetUserService(store);
        await factory.InitializeAsync();
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString))
        {
            // A document the service cannot read makes its handler throw.
            await redis.GetDatabase().HashSetAsync(StoreLayout.Data, 424242, "{\"username\": [");
        }

        using var api = factory.CreateApiClient();
        using var response = await api.GetAsync("/api/users/424242", TestContext.Current.CancellationToken);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.InternalServerError);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("\"traceId\"", body);
        Assert.DoesNotContain("Exception", body);
        Assert.DoesNotContain(" at ", body);
        Assert.DoesNotContain("UserStore", body);
        Assert.Null(problem.Detail);
    }
}
