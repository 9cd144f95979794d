using System.Net.Http.Json;
using System.Reflection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// A write whose replicas must confirm it, while the client has no connection to the primary that holds its
/// keys (a cluster node reconnecting): the client throws <see cref="InvalidOperationException"/> when asked
/// for that primary, and the write answers 503, as when no replica confirms it, never 500. The tests' client
/// answers so for every key; everything else goes to the store.
/// </summary>
public sealed class UnreachablePrimaryTests(UnreachablePrimaryTests.Service factory) : IClassFixture<UnreachablePrimaryTests.Service>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateWhoseClaimsPrimaryCannotBeReachedAnswers503NotApplied()
    {
        using var api = factory.CreateApiClient();
        var user = TestUsers.Unique();

        using var response = await api.PostAsJsonAsync("/api/users", user, Cancellation);

        await ProblemAssert.IsUnavailableWriteAsync(response, "not-applied");
        Assert.Equal("[]", await api.GetStringAsync($"/api/users?username={user.Username}", Cancellation));
    }

    [Fact]
    public async Task ReplaceWhosePrimaryCannotBeReachedAnswers503Unknown()
    {
        using var api = factory.CreateApiClient();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        var seeded = await StoreSeed.AddUserAsync(redis.GetDatabase());

        using var response = await api.ReplaceUserAsync(seeded.Id, new NewUser(seeded.Username, seeded.Email, "Renamed"));

        await ProblemAssert.IsUnavailableWriteAsync(response, "unknown");
    }

    public sealed class Service(RedisStoreServer store) : UserServiceFactory(store)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Store:Replication:Acks", "1");
            builder.ConfigureTestServices(services =>
                StoreClientProxy.Replace(services, inner => StoreClientProxy.Wrap<IConnectionMultiplexer, KeyOwnerUnreachable>(inner)));
        }
    }

    /// <summary>The service's Redis client, except that it cannot name the server that owns a key.</summary>
    public class KeyOwnerUnreachable : StoreClientProxy
    {
        protected override object? Invoke(MethodInfo? method, object?[]? args) =>
            method!.Name == nameof(IConnectionMultiplexer.GetServer) && args is [RedisKey, ..]
                // What StackExchange.Redis throws when it has no connection to the key's server.
                ? throw new InvalidOperationException("It was not possible to resolve a connection to the server owning the specified key")
                : Forward(method, args);
    }
}
