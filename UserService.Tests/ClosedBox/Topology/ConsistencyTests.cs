using System.Net;
using System.Net.Http.Json;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>
/// The store's guarantees through the whole topology, on each engine and with two userservice replicas:
/// uniqueness under a race, keyset pagination over many users, and reads that follow writes.
/// </summary>
public abstract class ConsistencyTests(AppHostFixture fixture)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FiftyConcurrentCreatesOfOneUsernameYieldExactlyOneUser()
    {
        using var api = fixture.Host.CreateApiClient();
        var username = TestUsers.Unique().Username;

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await api.PostAsJsonAsync("/api/users", new NewUser(username, $"{username}-{i}@example.com"), Cancellation);
            return response.StatusCode;
        }));

        Assert.Equal(1, responses.Count(status => status == HttpStatusCode.Created));
        Assert.Equal(49, responses.Count(status => status == HttpStatusCode.Conflict));
        Assert.Single((await api.GetFromJsonAsync<UserDto[]>($"/api/users?username={username}", Cancellation))!);
        await StoreInvariants.AssertConsistentAsync(await fixture.Host.CacheConnectionStringAsync());
    }

    [Fact]
    public async Task ConcurrentReplacesWithOneETagYieldExactlyOneSuccess()
    {
        using var api = fixture.Host.CreateApiClient();
        var (created, etag) = await api.CreateWithETagAsync();

        // Each retries its 503s with the same If-Match, as a client is told to: on a busy machine the store may
        // not answer in time, and a replace whose answer was lost then meets its own version change as a 412.
        var writes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            api.WriteRetryingAsync(created.Id, etag, new NewUser(created.Username, created.Email, $"Writer {i}"))));
        using var current = await api.GetAsync($"/api/users/{created.Id}", Cancellation);
        var winner = int.Parse((await current.Content.ReadFromJsonAsync<UserDto>(Cancellation))!.DisplayName!["Writer ".Length..]);

        var answers = string.Join(", ", writes.Select((write, i) => $"{i}: {(int)write.Status}{(write.AnswerLost ? " after a lost answer" : "")}"));
        Assert.Equal("\"2\"", current.Headers.ETag?.Tag);
        Assert.True(writes[winner].Status == HttpStatusCode.OK || writes[winner] is { Status: HttpStatusCode.PreconditionFailed, AnswerLost: true }, answers);
        Assert.True(writes.Where((_, i) => i != winner).All(write => write.Status == HttpStatusCode.PreconditionFailed), answers);
        await StoreInvariants.AssertConsistentAsync(await fixture.Host.CacheConnectionStringAsync());
    }

    [Fact]
    public async Task RacingRenamesAndDeletesLeaveNoDanglingIndexEntry()
    {
        using var api = fixture.Host.CreateApiClient();
        var (_, first) = await api.CreateAsync(TestUsers.Unique());
        var (_, second) = await api.CreateAsync(TestUsers.Unique());
        var contested = TestUsers.Unique();

        // Both users race for one name and for names of their own, while the first is being deleted.
        var writes = Enumerable.Range(0, 20).Select(async i =>
        {
            var user = i % 2 == 0 ? first : second;
            var target = i % 4 < 2 ? contested : TestUsers.Unique();
            using var response = await api.PutAsJsonAsync($"/api/users/{user.Id}", target, Cancellation);
            return response.StatusCode;
        }).Append(Task.Run(async () =>
        {
            using var response = await api.DeleteAsync($"/api/users/{first.Id}", Cancellation);
            return response.StatusCode;
        }));
        var statuses = await Task.WhenAll(writes);

        // On a busy machine a write that keeps losing the race can run out of its request's deadline: a 503
        // within 2 s, which leaves the store as consistent as any other answer.
        Assert.All(statuses, status => Assert.Contains(status, new[] { HttpStatusCode.OK, HttpStatusCode.NoContent, HttpStatusCode.Conflict, HttpStatusCode.NotFound, HttpStatusCode.ServiceUnavailable }));
        Assert.True((await api.GetFromJsonAsync<UserDto[]>($"/api/users?username={contested.Username}", Cancellation))!.Length <= 1);
        await StoreInvariants.AssertConsistentAsync(await fixture.Host.CacheConnectionStringAsync());
    }

    [Fact]
    public async Task WalkingThePagesVisitsEveryUserOnceInIdOrder()
    {
        using var api = fixture.Host.CreateApiClient();
        var mine = new List<long>();
        for (var batch = 0; batch < 5; batch++)
        {
            var created = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => api.CreateAsync(TestUsers.Unique())));
            mine.AddRange(created.Select(c => c.User.Id));
        }

        var visited = new List<long>();
        var next = $"/api/users?after={mine.Min() - 1}&limit=50";
        var pages = 0;
        while (next is not null && pages++ < 1000)
        {
            using var response = await api.GetAsync(next, Cancellation);
            visited.AddRange((await response.Content.ReadFromJsonAsync<UserDto[]>(Cancellation))!.Select(user => user.Id));
            next = response.Headers.TryGetValues("Link", out var links) ? ParseNext(links.Single()) : null;
        }

        Assert.Equal(250, mine.Count);
        Assert.Equal(visited.Order(), visited);
        Assert.Equal(visited.Distinct().Count(), visited.Count);
        Assert.Empty(mine.Except(visited));
    }

    [Fact]
    public async Task EveryReadAfterAnAcknowledgedWriteSeesItWhicheverReplicaAnswers()
    {
        var replicas = await fixture.Host.ReplicasAsync(expected: 2);
        var clients = replicas.Select(replica => replica.CreateApiClient()).ToList();
        var (created, etag) = await clients[0].CreateWithETagAsync();
        await ReadEverywhereAsync(clients, created.Id, expectedDisplayName: null);

        // Each round writes through one replica and reads through all, after every replica cached the old answer.
        for (var round = 1; round <= 4; round++)
        {
            var displayName = $"Round {round}";
            using var updated = await clients[round % clients.Count].ReplaceUserAsync(created.Id, new NewUser(created.Username, created.Email, displayName), etag);
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
            etag = updated.Headers.ETag!.ToString();

            await ReadEverywhereAsync(clients, created.Id, displayName);
        }

        clients.ForEach(client => client.Dispose());
    }

    /// <summary>Reads the user by id, in a page and by username, twice from every replica (the second read is a cache hit).</summary>
    private static async Task ReadEverywhereAsync(IReadOnlyList<HttpClient> replicas, long id, string? expectedDisplayName)
    {
        foreach (var api in replicas)
        {
            for (var i = 0; i < 2; i++)
            {
                var byId = await api.GetFromJsonAsync<UserDto>($"/api/users/{id}", Cancellation);
                var page = await api.GetFromJsonAsync<UserDto[]>($"/api/users?after={id - 1}&limit=1", Cancellation);
                var byName = await api.GetFromJsonAsync<UserDto[]>($"/api/users?username={byId!.Username}", Cancellation);

                Assert.Equal(expectedDisplayName, byId.DisplayName);
                Assert.Equal(expectedDisplayName, Assert.Single(page!).DisplayName);
                Assert.Equal(expectedDisplayName, Assert.Single(byName!).DisplayName);
            }
        }
    }

    private static string ParseNext(string link) => link[(link.IndexOf('<') + 1)..link.IndexOf('>')];
}

[Collection(GarnetAppHostCollection.Name)]
public sealed class GarnetConsistencyTests(GarnetAppHost fixture) : ConsistencyTests(fixture);

[Collection(RedisServerAppHostCollection.Name)]
public sealed class RedisServerConsistencyTests(RedisServerAppHost fixture) : ConsistencyTests(fixture);

[Collection(ClusterAppHostCollection.Name)]
public sealed class ClusterConsistencyTests(ClusterAppHost fixture) : ConsistencyTests(fixture);
