using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// A store that stops answering mid-load, over and over, on services just started and on one long warm: no
/// request ever answers 500, none waits longer than the 2 s the service promises before its 503, and a
/// writer that retries each 503 with its Idempotency-Key ends with its user created exactly once.
/// </summary>
[Collection(Name)]
public sealed class StoreStallTests
{
    public const string Name = "Store stalls";

    private const int Trials = 10;
    private const int RequestsPerTrial = 1_000;
    private const int Clients = 8;

    /// <summary>
    /// Longer than the 2 s promised, so that a call that outlives it would show; the Redis client's own timeout,
    /// checked on its heartbeat, let calls run to about 2.5 s.
    /// </summary>
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(2.5);
    private static readonly TimeSpan Promised = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan TrialBound = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StallsOnFreshAndWarmServicesAnswer503WithinTwoSecondsNever500AndRetriedCreatesLandOnce()
    {
        // A store of its own: the stalls must not reach other tests.
        await using var store = new GarnetStoreServer();
        await store.InitializeAsync();
        await using var warm = new GarnetUserService(store);
        await warm.InitializeAsync();

        var answers = new ConcurrentBag<(HttpStatusCode Status, TimeSpan Took)>();
        var creates = 0;
        for (var trial = 0; trial < Trials; trial++)
        {
            // Half the trials on a service started for the trial, whose first requests meet the stall.
            var fresh = trial % 2 == 0 ? new GarnetUserService(store) : null;
            try
            {
                if (fresh is not null)
                {
                    await fresh.InitializeAsync();
                }

                creates += await RunTrialAsync(store, fresh ?? warm, answers);
            }
            finally
            {
                if (fresh is not null)
                {
                    await fresh.DisposeAsync();
                }
            }
        }

        var slowest = answers.Max(answer => answer.Took);
        var statuses = answers.GroupBy(answer => answer.Status).ToDictionary(group => group.Key, group => group.Count());
        var summary = string.Join(", ", statuses.Select(pair => $"{(int)pair.Key}: {pair.Value}"));
        Assert.True(answers.Count >= Trials * RequestsPerTrial, $"Only {answers.Count} requests ran ({summary}).");
        // A fresh service's database starts empty, so user 1 may not exist yet.
        Assert.True(statuses.Keys.All(status => status is HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.NotFound or HttpStatusCode.ServiceUnavailable), summary);
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.ServiceUnavailable) >= Trials, $"The stalls did not show ({summary}).");
        Assert.True(slowest <= Promised, $"The slowest request took {slowest.TotalMilliseconds:N0} ms ({summary}).");
        Assert.True(creates >= Trials, $"Only {creates} creates were retried to their end.");
    }

    [Fact]
    public async Task CallThatTimesOutAfterAQuietSpellDoesNotFailTheCallsBehindIt()
    {
        await using var store = new RedisStoreServer();
        await store.InitializeAsync();
        await using var service = new QuietLimiterUserService(store);
        await service.InitializeAsync();
        using var api = service.CreateApiClient();
        var (_, user) = await api.CreateAsync(TestUsers.Unique());
        await RepairDoneAsync(service.StoreConnectionString);

        // Quiet for longer than the Redis client's test of a dead connection: one call that times out on a
        // connection that read nothing for four command timeouts closes it, with every call in flight on it.
        await Task.Delay(StoreResilience.CommandTimeout * 4 + TimeSpan.FromSeconds(1), Cancellation);
        Task<HttpStatusCode> first;
        Task<HttpStatusCode[]> behind;
        await store.PauseAsync();
        try
        {
            // The store answers again after 2 s: the first read's call has timed out by then, and the later
            // reads' calls, sent 0.8 s in, are still in time.
            var resume = Task.Delay(StoreResilience.CommandTimeout + TimeSpan.FromSeconds(0.5), Cancellation);
            first = StatusAsync(api, $"/api/users/{user.Id}");
            await Task.Delay(TimeSpan.FromSeconds(0.8), Cancellation);
            behind = Task.WhenAll(Enumerable.Range(0, 4).Select(_ => StatusAsync(api, $"/api/users/{user.Id}")));
            await resume;
        }
        finally
        {
            await store.ResumeAsync();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await first);
        Assert.All(await behind, status => Assert.Equal(HttpStatusCode.OK, status));

        static async Task<HttpStatusCode> StatusAsync(HttpClient api, string path)
        {
            using var response = await api.GetAsync(path, Cancellation);
            return response.StatusCode;
        }
    }

    [Fact]
    public async Task WriteStalledBeforeItsUserIsWrittenSaysItWasNotApplied()
    {
        await using var store = new GarnetStoreServer();
        await store.InitializeAsync();
        await using var service = new GarnetUserService(store);
        await service.InitializeAsync();
        using var api = service.CreateApiClient();
        await api.CreateAsync(TestUsers.Unique());
        var user = TestUsers.Unique();

        await store.PauseAsync();
        HttpResponseMessage response;
        try
        {
            response = await api.PostAsJsonAsync("/api/users", user, Cancellation);
        }
        finally
        {
            await store.ResumeAsync();
        }

        // The create's first steps only take an id and claim its values: the user it names never appears.
        using (response)
        {
            await ProblemAssert.IsUnavailableWriteAsync(response, "not-applied");
        }

        Assert.Equal("[]", await api.GetStringAsync($"/api/users?username={user.Username}", Cancellation));
    }

    [Fact]
    public async Task WriteCutOffOnceItsDocumentWasSentSaysItMayHaveBeenApplied()
    {
        await using var store = new RedisStoreServer();
        await store.InitializeAsync();
        await using var service = new QuietLimiterUserService(store);
        await service.InitializeAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.StoreConnectionString);
        var database = redis.GetDatabase();
        // A user the service did not write, and a service done with its own writes (the repair at start, the
        // caller's one rate-limit slice), so that nothing else of it waits behind the pause.
        await StoreSeed.SeedAsync(database, users: 1);
        using var api = service.CreateApiClient();
        // The repair records Done, then gives its lease back: a write that, paused, would hold up the replace's read.
        await RepairDoneAsync(service.StoreConnectionString);
        using (var missing = await api.ReplaceUserAsync(404, TestUsers.Unique()))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // Reads go on and writes wait: the replace reads its user, and its document is the step that waits.
        var user = StoreSeed.User(1);
        await database.ExecuteAsync("CLIENT", "PAUSE", (long)Stall.TotalMilliseconds, "WRITE");
        using var response = await api.ReplaceUserAsync(user.Id, new NewUser(user.Username, user.Email, "Renamed"));

        await ProblemAssert.IsUnavailableWriteAsync(response, "unknown");
    }

    [Fact]
    public async Task WriteThatCouldNotBeSentSaysItWasNotApplied()
    {
        await using var store = new GarnetStoreServer();
        await using var service = new StoreDownUserService(store);
        using var api = service.CreateClient().Authorize();

        using var response = await api.PostAsJsonAsync("/api/users", TestUsers.Unique(), Cancellation);

        await ProblemAssert.IsUnavailableWriteAsync(response, "not-applied");
    }

    /// <summary>Waits for the service's repair at start to record Done and give its lease back: it writes no more after that.</summary>
    private static async Task RepairDoneAsync(string storeConnectionString)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(storeConnectionString);
        var database = redis.GetDatabase();
        await Eventually.MatchAsync(
            async _ => ((string?)await database.HashGetAsync(StoreLayout.Repair, "phase"), await database.KeyExistsAsync(StoreLayout.RepairLease)),
            repair => repair is ("Done", false),
            TrialBound);
    }

    /// <summary>
    /// Clients read and create through <paramref name="service"/> while the store stalls once; a create is
    /// retried with its key until it gets an answer other than 503. Answers how many creates it checked.
    /// </summary>
    private static async Task<int> RunTrialAsync(StoreServer store, UserServiceFactory service, ConcurrentBag<(HttpStatusCode, TimeSpan)> answers)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        var sent = 0;
        var created = new ConcurrentBag<(NewUser User, HttpStatusCode Final)>();

        async Task<HttpStatusCode> SendAsync(Func<Task<HttpResponseMessage>> request)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await request();
            answers.Add((response.StatusCode, Stopwatch.GetElapsedTime(started)));
            Interlocked.Increment(ref sent);
            return response.StatusCode;
        }

        var clients = Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            using var api = service.CreateApiClient();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                if ((client + i) % 4 != 0)
                {
                    await SendAsync(() => api.GetAsync((client + i) % 4 == 1 ? "/api/users/1" : $"/api/users?after={i % 50}&limit=5", CancellationToken.None));
                    continue;
                }

                // Retried to the end even once the trial stops: its user must land exactly once.
                var (user, key) = (TestUsers.Unique(), Guid.NewGuid().ToString());
                HttpStatusCode status;
                while ((status = await SendAsync(() => api.PostOnceAsync(user, key))) == HttpStatusCode.ServiceUnavailable)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), Cancellation);
                }

                created.Add((user, status));
            }
        })).ToList();

        var trial = Stopwatch.StartNew();
        await store.PauseAsync();
        try
        {
            await Task.Delay(Stall, Cancellation);
        }
        finally
        {
            await store.ResumeAsync();
        }

        // On until the trial has its share of requests, the store answering again.
        await Eventually.MatchAsync(_ => Task.FromResult(Volatile.Read(ref sent)), count => count >= RequestsPerTrial, TrialBound - trial.Elapsed);
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        using var reader = service.CreateApiClient();
        foreach (var (user, final) in created)
        {
            Assert.Equal(HttpStatusCode.Created, final);
            var found = await reader.GetFromJsonAsync<UserDto[]>($"/api/users?email={user.Email}", Cancellation);
            Assert.Equal(user.Username, Assert.Single(found!).Username);
        }

        await StoreInvariants.AssertConsistentAsync(service.StoreConnectionString);
        return created.Count;
    }
}

/// <summary>The stalls run alone: a loaded machine's scheduling delays are not what the 2 s bound is about.</summary>
[CollectionDefinition(StoreStallTests.Name, DisableParallelization = true)]
public sealed class StoreStallsCollection;
