using System.Net;
using System.Net.Http.Json;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.ClosedBox.Reliability;

/// <summary>
/// Acknowledged means on a replica, for every key a write touches. Each test holds back the replica of the
/// one shard that serves a single key of the write, with everything else the write touches on other shards,
/// so that a failover of that shard would lose exactly that key: the write must not be acknowledged.
/// </summary>
[Collection(ClusterAppHostCollection.Name)]
public sealed class LaggingReplicaTests(ClusterAppHost fixture)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateWhoseIdCounterNoReplicaHasAnswers503NotApplied()
    {
        await using var shards = await ClusterShards.ConnectAsync(await fixture.Host.CacheConnectionStringAsync());
        var counterShard = shards.ShardOf(StoreLayout.NextId);
        var user = UserOff(shards, counterShard);
        await NextIdOffAsync(shards, counterShard);
        using var api = fixture.Host.CreateApiClient();

        await using (await shards.HoldBackReplicaAsync(counterShard))
        {
            using var response = await api.PostAsJsonAsync("/api/users", user, Cancellation);
            await ProblemAssert.IsUnavailableWriteAsync(response, "not-applied");
        }

        Assert.Equal("[]", await api.GetStringAsync($"/api/users?username={user.Username}", Cancellation));
    }

    [Fact]
    public async Task CreateWhoseIdempotencyRecordNoReplicaHasAnswers503NotApplied()
    {
        await using var shards = await ClusterShards.ConnectAsync(await fixture.Host.CacheConnectionStringAsync());
        var counterShard = shards.ShardOf(StoreLayout.NextId);
        var (key, recordShard) = Enumerable.Range(0, 1000).Select(_ => Guid.NewGuid().ToString())
            .Select(key => (Key: key, Shard: shards.ShardOf(StoreLayout.IdempotencyRecord(StoreLayout.IdempotencyHash(TestTokens.Subject, key)))))
            .First(candidate => !candidate.Shard.Equals(counterShard));
        var user = UserOff(shards, recordShard);
        await NextIdOffAsync(shards, recordShard);
        using var api = fixture.Host.CreateApiClient();

        await using (await shards.HoldBackReplicaAsync(recordShard))
        {
            using var response = await api.PostOnceAsync(user, key);
            await ProblemAssert.IsUnavailableWriteAsync(response, "not-applied");
        }

        // The same request again, once the replica is back, is the first create of that user.
        using var retried = await api.PostOnceAsync(user, key);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
    }

    [Fact]
    public async Task RenameWhoseCacheInvalidationNoReplicaHasAnswers503Unknown()
    {
        await using var shards = await ClusterShards.ConnectAsync(await fixture.Host.CacheConnectionStringAsync());
        var generationShard = shards.ShardOf(StoreLayout.Generation);
        using var api = fixture.Host.CreateApiClient();
        var (created, etag) = await CreateOffAsync(api, shards, generationShard);
        var renamed = UserOff(shards, generationShard);

        await using (await shards.HoldBackReplicaAsync(generationShard))
        {
            using var response = await api.ReplaceUserAsync(created.Id, renamed, etag);
            await ProblemAssert.IsUnavailableWriteAsync(response, "unknown");
        }
    }

    [Fact]
    public async Task RenameNoReplicaConfirmedKeepsItsOldUsernameFromAnotherUser()
    {
        await using var shards = await ClusterShards.ConnectAsync(await fixture.Host.CacheConnectionStringAsync());
        using var api = fixture.Host.CreateApiClient();
        var (created, etag) = await api.CreateWithETagAsync();
        var dataShard = shards.ShardOf(StoreLayout.DataOf(created.Id));
        var renamed = UserOff(shards, dataShard);

        await using (await shards.HoldBackReplicaAsync(dataShard))
        {
            using var response = await api.ReplaceUserAsync(created.Id, renamed, etag);
            await ProblemAssert.IsUnavailableWriteAsync(response, "unknown");
        }

        // A failover now would bring the user back under its old name: nobody else may have taken it.
        var claim = Claim.Parse(await shards.Database.StringGetAsync(StoreLayout.UsernameClaim(created.Username)));
        Assert.Equal(created.Id, claim?.Id);
        using var taken = await api.PostAsJsonAsync("/api/users", TestUsers.Unique() with { Username = created.Username }, Cancellation);
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
    }

    /// <summary>A new user whose username and email are claimed on shards other than <paramref name="shard"/>.</summary>
    private static NewUser UserOff(ClusterShards shards, EndPoint shard) =>
        Enumerable.Range(0, 1000).Select(_ => TestUsers.Unique())
            .First(user => !shards.IsOn(shard, StoreLayout.UsernameClaim(user.Username), StoreLayout.EmailClaim(user.Email)));

    /// <summary>Skips ids until the next one lives in a bucket off <paramref name="shard"/>.</summary>
    private static async Task NextIdOffAsync(ClusterShards shards, EndPoint shard)
    {
        var next = (long)await shards.Database.StringGetAsync(StoreLayout.NextId) + 1;
        while (shards.IsOn(shard, StoreLayout.DataOf(next)))
        {
            next = await shards.Database.StringIncrementAsync(StoreLayout.NextId) + 1;
        }
    }

    /// <summary>Creates a user who lives, and whose values are claimed, off <paramref name="shard"/>.</summary>
    private static async Task<(UserDto User, string ETag)> CreateOffAsync(HttpClient api, ClusterShards shards, EndPoint shard)
    {
        await NextIdOffAsync(shards, shard);
        var created = await api.CreateWithETagAsync(UserOff(shards, shard));
        Assert.False(shards.IsOn(shard, StoreLayout.DataOf(created.User.Id)), "Another create took the id this test made ready.");
        return created;
    }
}
