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
/// A write takes several steps on several keys, and a crash of the service or the store can cut it short
/// between any two. Each test leaves in the store what such a cut leaves, then checks that readers ignore
/// it, that the value it names is free where it should be, and that the repair clears it. Claims it leaves
/// are set long ago (store time 0), as they are once <see cref="StoreLayout.ClaimGrace"/> has passed. The
/// service's own repair on start and reconnect is left out, so that only the test's call repairs.
/// </summary>
public abstract class CrashRepairTests(UserServiceFactory factory)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private HttpClient Api => field ??= factory.CreateApiClient();

    [Fact]
    public async Task CreateCutShortBeforeItsDocumentLeavesNothingVisibleAndItsValuesFree()
    {
        var ghost = TestUsers.Unique();
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        // A create's id and claims, without the document that would have followed them.
        var id = await CreateCutShortAsync(database, ghost);

        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync($"/api/users/{id}", Cancellation)).StatusCode);
        Assert.Empty(await FindAsync($"username={ghost.Username}"));
        Assert.Empty(await FindAsync($"email={ghost.Email}"));
        await RepairAndAssertConsistentAsync(expectedChanges: 2);

        await Api.CreateAsync(ghost);
    }

    [Fact]
    public async Task ClaimsLeftBehindAreTakenOverByTheNextCreateWithoutARepair()
    {
        var ghost = TestUsers.Unique();
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        await CreateCutShortAsync(database, ghost);

        var (_, created) = await Api.CreateAsync(ghost);

        Assert.Equal(created.Id, Assert.Single(await FindAsync($"username={ghost.Username}")).Id);
        await RepairAndAssertConsistentAsync(expectedChanges: 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4_000)]
    public async Task ClaimOfAWriteThatMayStillBeInFlightIsNotTakenOverUntilItIsOld(long aheadMilliseconds)
    {
        var ghost = TestUsers.Unique();
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        var id = await database.StringIncrementAsync(StoreLayout.NextId);
        // Claimed a moment ago by a create that has not written its document yet, on a node whose clock may
        // run some seconds ahead of the one that holds the claim now.
        var stamped = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + aheadMilliseconds;
        await database.StringSetAsync(StoreLayout.UsernameClaim(ghost.Username), StoreSeed.Claim(id, at: stamped));

        using var response = await Api.PostAsJsonAsync("/api/users", ghost, Cancellation);
        var repair = await factory.Services.GetRequiredService<UserStore>().RepairAsync(Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal(new RepairResult(Changed: 0, Quarantined: 0), repair);
        Assert.Equal(StoreSeed.Claim(id, at: stamped), (string?)await database.StringGetAsync(StoreLayout.UsernameClaim(ghost.Username)));

        // The same claim, once older than the grace, is a leftover like any other.
        await database.StringSetAsync(StoreLayout.UsernameClaim(ghost.Username), StoreSeed.Claim(id, at: stamped - aheadMilliseconds - (long)StoreLayout.ClaimGrace.TotalMilliseconds));
        await RepairAndAssertConsistentAsync(expectedChanges: 1);
    }

    [Fact]
    public async Task ClaimStampedFarAheadOfTheStoresClockDoesNotBlockItsValue()
    {
        var ghost = TestUsers.Unique();
        var other = TestUsers.Unique();
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        // Claims a create left behind on a node whose clock ran a minute ahead, since set right.
        var id = await database.StringIncrementAsync(StoreLayout.NextId);
        var stamped = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds();
        await database.StringSetAsync(StoreLayout.UsernameClaim(ghost.Username), StoreSeed.Claim(id, at: stamped));
        await database.StringSetAsync(StoreLayout.UsernameClaim(other.Username), StoreSeed.Claim(id, at: stamped));

        var (_, created) = await Api.CreateAsync(ghost);

        Assert.Equal(created.Id, Assert.Single(await FindAsync($"username={ghost.Username}")).Id);
        await RepairAndAssertConsistentAsync(expectedChanges: 1);
        Assert.False(await database.KeyExistsAsync(StoreLayout.UsernameClaim(other.Username)));
    }

    [Fact]
    public async Task RenameCutShortBeforeItsDocumentDoesNotLendTheNewNameToTheUser()
    {
        var (_, user) = await Api.CreateAsync(TestUsers.Unique());
        var newName = TestUsers.Unique().Username;
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        // The rename's claim of the new username, without the document that carries it.
        await database.StringSetAsync(StoreLayout.UsernameClaim(newName), StoreSeed.Claim(user.Id));

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
        // The delete's removal of the document, without the claims it would have given up after it.
        await database.HashDeleteAsync(StoreLayout.DataOf(user.Id), user.Id);
        await database.SortedSetRemoveAsync(StoreLayout.Order(StoreLayout.BucketOf(user.Id)), user.Id);
        await AgeClaimsAsync(database, user);

        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync($"/api/users/{user.Id}", Cancellation)).StatusCode);
        Assert.Empty(await FindAsync($"username={user.Username}"));
        Assert.DoesNotContain(user.Id, (await FindAsync($"after={user.Id - 1}")).Select(listed => listed.Id));
        await RepairAndAssertConsistentAsync(expectedChanges: 2);

        await Api.CreateAsync(original);
    }

    [Fact]
    public async Task UserMissingItsClaimAndOrderEntryGetsThemBack()
    {
        var (_, user) = await Api.CreateAsync(TestUsers.Unique());
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        await database.KeyDeleteAsync(StoreLayout.UsernameClaim(user.Username.ToLowerInvariant()));
        await database.SortedSetRemoveAsync(StoreLayout.Order(StoreLayout.BucketOf(user.Id)), user.Id);
        Assert.Empty(await FindAsync($"username={user.Username}"));

        await RepairAndAssertConsistentAsync(expectedChanges: 2);

        Assert.Equal(user.Id, Assert.Single(await FindAsync($"username={user.Username}")).Id);
        Assert.Contains(user.Id, (await FindAsync($"after={user.Id - 1}")).Select(listed => listed.Id));
    }

    [Fact]
    public async Task UnreadableDocumentIsQuarantinedAndTheRepairGoesOn()
    {
        var (_, user) = await Api.CreateAsync(TestUsers.Unique());
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        var corruptId = await SeedUnreadableAsync(database);
        await database.KeyDeleteAsync(StoreLayout.EmailClaim(user.Email.ToLowerInvariant()));

        var result = await factory.Services.GetRequiredService<UserStore>().RepairAsync(Cancellation);

        // The user's missing claim restored, and the corrupt document's one removed.
        Assert.Equal(new RepairResult(Changed: 2, Quarantined: 1), result);
        Assert.Equal(user.Id, Claim.Parse(await database.StringGetAsync(StoreLayout.EmailClaim(user.Email.ToLowerInvariant())))?.Id);
        Assert.Equal(UnreadableDocument, (string?)await database.HashGetAsync(StoreLayout.Quarantine(StoreLayout.BucketOf(corruptId)), corruptId));
        await StoreInvariants.AssertConsistentAsync(factory.StoreConnectionString, repaired: true);
    }

    [Fact]
    public async Task UnreadableDocumentIsAbsentFromEveryReadAndADeleteRemovesIt()
    {
        var (_, before) = await Api.CreateAsync(TestUsers.Unique());
        await using var redis = await ConnectAsync();
        var database = redis.GetDatabase();
        var corruptId = await SeedUnreadableAsync(database);
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
        Assert.False(await database.HashExistsAsync(StoreLayout.DataOf(corruptId), corruptId));
        // The claim the unreadable document had now names no user, which the repair removes.
        await RepairAndAssertConsistentAsync(expectedChanges: 1);
    }

    /// <summary>A user whose document cannot be read, with its order entry and a claim, under a new id.</summary>
    private static async Task<long> SeedUnreadableAsync(IDatabase database)
    {
        var id = await database.StringIncrementAsync(StoreLayout.NextId);
        await database.HashSetAsync(StoreLayout.DataOf(id), id, UnreadableDocument);
        await database.SortedSetAddAsync(StoreLayout.Order(StoreLayout.BucketOf(id)), id, id);
        await database.StringSetAsync(StoreLayout.UsernameClaim($"name-of-{id}"), StoreSeed.Claim(id));
        return id;
    }

    /// <summary>A create cut short after its claims: a new id, and the user's values claimed for it long ago.</summary>
    private static async Task<long> CreateCutShortAsync(IDatabase database, NewUser user)
    {
        var id = await database.StringIncrementAsync(StoreLayout.NextId);
        await ClaimLongAgoAsync(database, id, user.Username, user.Email);
        return id;
    }

    /// <summary>Sets the user's claims back to long ago, as they are once the grace has passed.</summary>
    private static Task AgeClaimsAsync(IDatabase database, UserDto user) =>
        ClaimLongAgoAsync(database, user.Id, user.Username, user.Email);

    private static async Task ClaimLongAgoAsync(IDatabase database, long id, string username, string email)
    {
        await database.StringSetAsync(StoreLayout.UsernameClaim(username.ToLowerInvariant()), StoreSeed.Claim(id));
        await database.StringSetAsync(StoreLayout.EmailClaim(email.ToLowerInvariant()), StoreSeed.Claim(id));
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
        await StoreInvariants.AssertConsistentAsync(factory.StoreConnectionString, repaired: true);
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
            await database.SortedSetAddAsync(StoreLayout.Order(StoreLayout.BucketOf(7)), 7, 7);
            await database.StringSetAsync(StoreLayout.UsernameClaim("ghost"), StoreSeed.Claim(7));
        }

        using var api = factory.CreateApiClient();

        var violations = await Eventually.MatchAsync(
            _ => StoreInvariants.ViolationsAsync(factory.StoreConnectionString, repaired: true), found => found.Count == 0, TimeSpan.FromSeconds(10));

        Assert.Empty(violations);
    }
}
