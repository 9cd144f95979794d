using System.Net;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Users;

/// <summary>
/// The cache keeps a bounded number of bytes of answers, however many distinct pages are read. On a service and a
/// database of its own: the test spends the cap of its window, which other tests' reads would need.
/// </summary>
public sealed class CacheCapTests(GarnetStoreServer store)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private const long Cap = 16 * 1024;

    [Fact]
    public async Task CacheKeepsNoMoreBytesThanItsCapHoweverManyPagesAreRead()
    {
        await using var service = new GarnetUserService(store);
        await service.InitializeAsync();
        using var capped = service.WithWebHostBuilder(builder => builder.UseSetting("Caching:MaxBytesPerWindow", Cap.ToString()));
        using var api = capped.CreateClient().Authorize();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.StoreConnectionString);

        for (var after = 0; after < 1_000; after++)
        {
            using var response = await api.GetAsync($"/api/users?after={after}&limit=1", Cancellation);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var database = redis.GetDatabase();
        var kept = await redis.GetServers().Single().KeysAsync(pattern: "__MSOCV_*").ToListAsync(Cancellation);
        var bytes = 0L;
        foreach (var key in kept)
        {
            bytes += await database.StringLengthAsync(key);
        }

        Assert.InRange(kept.Count, 1, 999);
        Assert.InRange(bytes, 1, Cap);
    }
}
