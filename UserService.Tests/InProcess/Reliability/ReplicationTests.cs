using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// A write is acknowledged only once the replicas it asks for confirm it (<c>Store:Replication:Acks</c>).
/// Here the store has none, so no write is ever confirmed: a create stops at its claims, and says it was
/// not applied; a replace that needs no claim is applied on the primary, and says it may have been.
/// </summary>
public sealed class ReplicationTests(ReplicationTests.Service factory) : IClassFixture<ReplicationTests.Service>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateThatNoReplicaConfirmsAnswers503NotAppliedAndLeavesItsValuesFree()
    {
        using var api = factory.CreateApiClient();
        var user = TestUsers.Unique();

        using var response = await api.PostAsJsonAsync("/api/users", user, Cancellation);

        await ProblemAssert.IsUnavailableWriteAsync(response, "not-applied");
        Assert.Equal("[]", await api.GetStringAsync($"/api/users?username={user.Username}", Cancellation));
        // The 503 does not wait for the claims to be given back.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        Assert.False(await Eventually.MatchAsync(_ => redis.GetDatabase().KeyExistsAsync(StoreLayout.UsernameClaim(user.Username)), claimed => !claimed, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ReplaceThatNoReplicaConfirmsAnswers503UnknownThoughThePrimaryHasIt()
    {
        using var api = factory.CreateApiClient();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        var seeded = await StoreSeed.AddUserAsync(redis.GetDatabase());

        using var response = await api.ReplaceUserAsync(seeded.Id, new NewUser(seeded.Username, seeded.Email, "Renamed"));

        await ProblemAssert.IsUnavailableWriteAsync(response, "unknown");
        Assert.Equal("Renamed", (await api.GetFromJsonAsync<UserDto>($"/api/users/{seeded.Id}", Cancellation))!.DisplayName);
    }

    public sealed class Service(RedisStoreServer store) : UserServiceFactory(store)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Store:Replication:Acks", "1");
            builder.UseSetting("Store:Replication:Timeout", "00:00:00.050");
        }
    }
}
