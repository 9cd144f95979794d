using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// A store written by the version before the buckets (<see cref="LegacyLayout"/>) is moved to the current
/// layout when the service starts: every user once, with its claims, across a replica that stops half-way,
/// and nothing is served from the store until the move is done. Each replica is the service in process, on
/// a database of the test's own.
/// </summary>
public sealed class StoreMigrationTests(GarnetStoreServer store, RedisStoreServer redisServer)
{
    private const int Users = 10_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OldLayoutStoreIsMigratedOnStartAndAMigrationCutShortContinuesOnTheNextReplica()
    {
        await using var factory = new GarnetUserService(store);
        await factory.InitializeAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        var database = redis.GetDatabase();
        await StoreSeed.SeedLegacyAsync(database, Users);
        // What the old layout may also hold: a quarantined document, and an index entry a crash left behind.
        await database.HashSetAsync(LegacyLayout.Quarantine, 20_000, "{");
        await database.HashSetAsync(LegacyLayout.ByUsername, "ghost", 30_000);

        var first = Replica(factory, batch: 50, pause: TimeSpan.FromMilliseconds(10));
        using (var api = first.CreateClient().Authorize())
        {
            await Eventually.MatchAsync(_ => MovedAsync(database), moved => moved >= Users / 5, Bound);
            using var meanwhile = await api.GetAsync("/api/users/1", Cancellation);
            await ProblemAssert.IsProblemAsync(meanwhile, HttpStatusCode.ServiceUnavailable);
            Assert.NotNull(meanwhile.Headers.RetryAfter);
        }

        await first.DisposeAsync();
        var movedByTheFirst = await MovedAsync(database);
        Assert.InRange(movedByTheFirst, Users / 5, Users - 1);

        await using var second = Replica(factory, batch: 500, pause: TimeSpan.Zero);
        using var client = second.CreateClient().Authorize();
        await Eventually.MatchAsync(async _ => (string?)await database.StringGetAsync(StoreLayout.Layout), layout => layout == StoreLayout.CurrentLayout, Bound);

        var record = await database.HashGetAsync(StoreLayout.Migration, ["runs", "moved", "quarantined"]);
        Assert.Equal([2, Users, 0], record.Select(value => (long)value));
        Assert.Equal(0, await database.KeyExistsAsync([.. LegacyLayout.Keys]));
        Assert.Equal("{", (string?)await database.HashGetAsync(StoreLayout.Quarantine(StoreLayout.BucketOf(20_000)), 20_000));
        await StoreInvariants.AssertConsistentAsync(factory.StoreConnectionString, repaired: true);

        Assert.Equal(Enumerable.Range(1, Users).Select(id => (long)id), await AllIdsAsync(client));
        foreach (var id in new long[] { 1, Users / 2, Users })
        {
            var found = await client.GetFromJsonAsync<UserDto[]>($"/api/users?username={StoreSeed.User(id).Username}", Cancellation);
            Assert.Equal(id, Assert.Single(found!).Id);
        }

        // The id counter kept its key: the next user follows the last old one.
        var (_, created) = await client.CreateAsync(TestUsers.Unique());
        Assert.Equal(Users + 1, created.Id);
    }

    [Fact]
    public async Task NewStoreIsMarkedWithTheCurrentLayoutBeforeTheFirstRequest()
    {
        await using var factory = new GarnetUserService(store);
        await factory.InitializeAsync();
        using var api = factory.CreateApiClient();

        using var response = await api.GetAsync("/api/users", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        Assert.Equal(StoreLayout.CurrentLayout, (string?)await redis.GetDatabase().StringGetAsync(StoreLayout.Layout));
    }

    [Fact]
    public async Task TwoOldDocumentsWithOneUsernameKeepTheUserTheOldIndexNamedWhicheverComesFirst()
    {
        // redis-server scans a small hash in the order it was written: the impostor comes first.
        await using var factory = new RedisServerUserService(redisServer);
        await factory.InitializeAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        var database = redis.GetDatabase();
        var impostor = StoreSeed.User(7) with { Id = 11, Email = "impostor@example.com" };
        await database.HashSetAsync(LegacyLayout.Data, impostor.Id, StoreSeed.Document(impostor));
        await database.SortedSetAddAsync(LegacyLayout.Order, impostor.Id, impostor.Id);
        await StoreSeed.SeedLegacyAsync(database, 10);

        await using var replica = Replica(factory, batch: 500, pause: TimeSpan.Zero);
        using var api = replica.CreateClient().Authorize();
        await Eventually.MatchAsync(async _ => (string?)await database.StringGetAsync(StoreLayout.Layout), layout => layout == StoreLayout.CurrentLayout, Bound);

        var found = await api.GetFromJsonAsync<UserDto[]>($"/api/users?username={StoreSeed.User(7).Username}", Cancellation);
        Assert.Equal(7, Assert.Single(found!).Id);
        Assert.True(await database.HashExistsAsync(StoreLayout.Quarantine(StoreLayout.BucketOf(impostor.Id)), impostor.Id));
        Assert.Equal([10, 1], (await database.HashGetAsync(StoreLayout.Migration, ["moved", "quarantined"])).Select(value => (long)value));
    }

    [Fact]
    public async Task UsersABatchMovedButDidNotCountBeforeItsReplicaStoppedAreCounted()
    {
        const int Moved = 40;
        await using var factory = new GarnetUserService(store);
        await factory.InitializeAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        var database = redis.GetDatabase();
        await StoreSeed.SeedLegacyAsync(database, 100);
        // What a replica stopped between a batch's move and its count leaves: users moved, none counted.
        for (var id = 1; id <= Moved; id++)
        {
            var user = StoreSeed.User(id);
            await LegacyLayout.MoveUserAsync(database, id, StoreSeed.Document(user), user.Username, user.Email);
        }

        await using var replica = Replica(factory, batch: 500, pause: TimeSpan.Zero);
        using var api = replica.CreateClient().Authorize();
        await Eventually.MatchAsync(async _ => (string?)await database.StringGetAsync(StoreLayout.Layout), layout => layout == StoreLayout.CurrentLayout, Bound);

        Assert.Equal([100, 0], (await database.HashGetAsync(StoreLayout.Migration, ["moved", "quarantined"])).Select(value => (long)value));
    }

    private static async Task<long> MovedAsync(IDatabase database) => (long)await database.HashGetAsync(StoreLayout.Migration, "moved");

    /// <summary>Every id the pages list, following their Link headers.</summary>
    private static async Task<List<long>> AllIdsAsync(HttpClient api)
    {
        var ids = new List<long>();
        for (var next = "/api/users?limit=1000"; next is not null;)
        {
            using var response = await api.GetAsync(next, Cancellation);
            ids.AddRange((await response.Content.ReadFromJsonAsync<UserDto[]>(Cancellation))!.Select(user => user.Id));
            next = response.Headers.TryGetValues("Link", out var links) ? links.Single().Split('>')[0].TrimStart('<') : null;
        }

        return ids;
    }

    private static WebApplicationFactory<UserStore> Replica(UserServiceFactory factory, int batch, TimeSpan pause) =>
        factory.WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Store:Migration:BatchSize", batch.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Store:Migration:Pause", pause.ToString());
        });
}
