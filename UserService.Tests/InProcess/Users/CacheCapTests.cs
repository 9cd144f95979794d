using System.Net;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Caching;

namespace UserService.Tests.InProcess.Users;

/// <summary>
/// The cache keeps a bounded number of answers, however many distinct pages are read. On a service and a
/// database of its own: the test spends the cap of its window, which other tests' reads would need.
/// </summary>
public sealed class CacheCapTests(GarnetStoreServer store)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CacheKeepsNoMoreAnswersThanItsCapHoweverManyPagesAreRead()
    {
        await using var service = new GarnetUserService(store);
        await service.InitializeAsync();
        using var api = service.CreateApiClient();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.StoreConnectionString);

        for (var after = 0; after <= BoundedOutputCacheStore.MaxAnswersPerWindow; after++)
        {
            using var response = await api.GetAsync($"/api/users?after={after}&limit=1", Cancellation);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var kept = await redis.GetServers().Single().KeysAsync(pattern: "__MSOCV_*").CountAsync(Cancellation);
        Assert.InRange(kept, 1, BoundedOutputCacheStore.MaxAnswersPerWindow);
    }
}
