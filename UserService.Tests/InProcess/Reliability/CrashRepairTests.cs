using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// A store that crashes in the middle of a write script can come back with part of it: Garnet replays a
/// script's writes one by one. Each test leaves in the store what such a prefix leaves, then checks that
/// readers ignore it, that the value it names is free where it should be, and that the repair clears it.
/// The service's own repair on start and reconnect is left out, so that only the test's call repairs.
/// </summary>
public abstract class CrashRepairTests(UserServiceFactory factory)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private HttpClient Api => field ??= factory.CreateApiClient();

    [Fact]
    public async Task CreateCutShortBeforeItsDocumentLeavesNothingVisibleAndFreesItsUsername()
    {
        var ghost = TestUsers.Unique();
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        // Every step of the create script except the last, which writes the document.
        await database.StringIncrementAsync(StoreLayout.Generation);
        var id = await database.StringIncrementAsync(StoreLayout.NextId);
        await database.SortedSetAddAsync(StoreLayout.Order, id, id);
        await database.HashSetAsync(StoreLayout.ByUsername, ghost.Username, id);
        await database.HashSetAsync(StoreLayout.ByEmail, ghost.Email, id);

        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync($"/api/users/{id}", Cancellation)).StatusCode);
        Assert.Empty(await FindAsync($"username={ghost.Username}"));
        Assert.Empty(await FindAsync($"email={ghost.Email}"));
        Assert.DoesNotContain(id, (await FindAsync($"after={id - 1}")).Select(user => user.Id));
        await Api.CreateAsync(ghost);

        await RepairAndAssertConsistentAsync(expectedChanges: 1);
    }

    [Fact]
    public async Task RenameCutShortBeforeItsDocumentDoesNotLendTheNewNameToTheUser()
    {
        var (_, user) = await Api.CreateAsync(TestUsers.Unique());
        var newName = TestUsers.Unique().Username;
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        // The update script's claim of the new username, without the document that carries it.
        await database.StringIncrementAsync(StoreLayout.Generation);
        await database.HashSetAsync(StoreLayout.ByUsername, newName, user.Id);

        Assert.Empty(await FindAsync($"username={newName}"));
        Assert.Equal(user.Id, Assert.Single(await FindAsync($"username={user.Username}")).Id);

        await RepairAndAssertConsistentAsync(expectedChanges: 1);
        await Api.CreateAsync(TestUsers.Unique() with { Username = newName });
    }

    [Fact]
    public async Task DeleteCutShortAfterItsDocumentHidesTheUserAndFreesItsNames()
    {
        var original = TestUsers.Unique();
        var (_, user) = await Api.CreateAsync(original);
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        // The delete script's removal of the document, without the index entries after it.
        await database.StringIncrementAsync(StoreLayout.Generation);
        await database.HashDeleteAsync(StoreLayout.Data, user.Id);

        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync($"/api/users/{user.Id}", Cancellation)).StatusCode);
        Assert.Empty(await FindAsync($"username={user.Username}"));
        Assert.DoesNotContain(user.Id, (await FindAsync($"after={user.Id - 1}")).Select(listed => listed.Id));
        await RepairAndAssertConsistentAsync(expectedChanges: 3);

        await Api.CreateAsync(original);
    }

    [Fact]
    public async Task UserMissingFromItsIndexesIsIndexedAgain()
    {
        var (_, user) = await Api.CreateAsync(TestUsers.Unique());
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        await database.StringIncrementAsync(StoreLayout.Generation);
        await database.HashDeleteAsync(StoreLayout.ByUsername, user.Username);
        await database.SortedSetRemoveAsync(StoreLayout.Order, user.Id);
        Assert.Empty(await FindAsync($"username={user.Username}"));

        await RepairAndAssertConsistentAsync(expectedChanges: 2);

        Assert.Equal(user.Id, Assert.Single(await FindAsync($"username={user.Username}")).Id);
        Assert.Contains(user.Id, (await FindAsync($"after={user.Id - 1}")).Select(listed => listed.Id));
    }

    [Fact]
    public async Task UnreadableDocumentIsQuarantinedAndTheRepairGoesOn()
    {
        const long corruptId = 900_001;
        var (_, user) = await Api.CreateAsync(TestUsers.Unique());
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        await database.HashSetAsync(StoreLayout.Data, corruptId, UnreadableDocument);
        await database.SortedSetAddAsync(StoreLayout.Order, corruptId, corruptId);
        await database.HashSetAsync(StoreLayout.ByUsername, $"name-of-{corruptId}", corruptId);
        await database.HashDeleteAsync(StoreLayout.ByEmail, user.Email);

        var result = await factory.Services.GetRequiredService<UserStore>().RepairAsync(Cancellation);

        // The user's missing entry restored, and the corrupt document's one removed.
        Assert.Equal(new RepairResult(Changed: 2, Quarantined: 1), result);
        Assert.Equal(user.Id, (long)await database.HashGetAsync(StoreLayout.ByEmail, user.Email));
        Assert.Equal(UnreadableDocument, (string?)await database.HashGetAsync(StoreLayout.Quarantine, corruptId));
        await StoreInvariants.AssertConsistentAsync(factory.StoreConnectionString);
    }

    [Fact]
    public async Task UnreadableDocumentIsAbsentFromEveryReadAndADeleteRemovesIt()
    {
        var (_, before) = await Api.CreateAsync(TestUsers.Unique());
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        var corruptId = await database.StringIncrementAsync(StoreLayout.NextId);
        await database.HashSetAsync(StoreLayout.Data, corruptId, UnreadableDocument);
        await database.SortedSetAddAsync(StoreLayout.Order, corruptId, corruptId);
        await database.HashSetAsync(StoreLayout.ByUsername, $"name-of-{corruptId}", corruptId);
        var (_, after) = await Api.CreateAsync(TestUsers.Unique());

        using var byId = await Api.GetAsync($"/api/users/{corruptId}", Cancellation);
        var page = await FindAsync($"after={before.Id - 1}&limit=3");
        var byName = await FindAsync($"username=name-of-{corruptId}");
        using var replace = await Api.ReplaceUserAsync(corruptId, TestUsers.Unique());
        using var delete = await Api.DeleteUserAsync(corruptId);

        await ProblemAssert.IsProblemAsync(byId, HttpStatusCode.NotFound);
        Assert.Equal([before.Id, after.Id], page.Select(user => user.Id));
        Assert.Empty(byName);
        await ProblemAssert.IsProblemAsync(replace, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.False(await database.HashExistsAsync(StoreLayout.Data, corruptId));
        // The entry the unreadable document had now points at no user, which the repair removes.
        await RepairAndAssertConsistentAsync(expectedChanges: 1);
    }

    private const string UnreadableDocument = "{\"username\": [";

    protected static void WithoutBackgroundRepair(Action<IWebHostBuilder> configure, IWebHostBuilder builder)
    {
        configure(builder);
        builder.ConfigureServices(services => services.Remove(
            services.Single(descriptor => descriptor.ServiceType == typeof(IHostedService) && descriptor.ImplementationType == typeof(StoreRepair))));
    }

    private Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);

    private async Task<UserDto[]> FindAsync(string query)
    {
        using var response = await Api.GetAsync($"/api/users?{query}", Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<UserDto[]>(Cancellation))!;
    }

    private async Task RepairAndAssertConsistentAsync(int expectedChanges)
    {
        var result = await factory.Services.GetRequiredService<UserStore>().RepairAsync(Cancellation);

        Assert.Equal(new RepairResult(expectedChanges, Quarantined: 0), result);
        await StoreInvariants.AssertConsistentAsync(factory.StoreConnectionString);
    }
}

public sealed class CrashRepairOnGarnetTests(CrashRepairOnGarnetTests.Service factory) : CrashRepairTests(factory), IClassFixture<CrashRepairOnGarnetTests.Service>
{
    public sealed class Service(GarnetStoreServer store) : UserServiceFactory(store)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder) => WithoutBackgroundRepair(base.ConfigureWebHost, builder);
    }
}

public sealed class CrashRepairOnRedisServerTests(CrashRepairOnRedisServerTests.Service factory) : CrashRepairTests(factory), IClassFixture<CrashRepairOnRedisServerTests.Service>
{
    public sealed class Service(RedisStoreServer store) : UserServiceFactory(store)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder) => WithoutBackgroundRepair(base.ConfigureWebHost, builder);
    }
}

/// <summary>The service repairs the store when it starts, before anyone asks it to.</summary>
public sealed class RepairOnStartTests(GarnetUserService factory) : IClassFixture<GarnetUserService>
{
    [Fact]
    public async Task ServiceThatStartsOnADamagedStoreRepairsIt()
    {
        // The service has not started yet: damage its store first, as a crash before it came up would.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString))
        {
            var database = redis.GetDatabase();
            await database.SortedSetAddAsync(StoreLayout.Order, 7, 7);
            await database.HashSetAsync(StoreLayout.ByUsername, "ghost", 7);
        }

        using var api = factory.CreateApiClient();

        var violations = await Eventually.MatchAsync(
            _ => StoreInvariants.ViolationsAsync(factory.StoreConnectionString), found => found.Count == 0, TimeSpan.FromSeconds(10));

        Assert.Empty(violations);
    }
}
