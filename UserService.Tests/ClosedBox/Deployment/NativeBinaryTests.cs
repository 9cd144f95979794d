using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using UserService.Tests.ClosedBox.Reliability;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Deployment;

/// <summary>
/// The service published as Native AOT, run as its own process on redis-server: it answers the calls the
/// README and docs/api.md show as the build the other tests run does. Nothing in its request path binds by
/// reflection, which a native build would have answered with 500s.
/// </summary>
public sealed class NativeBinaryTests(RedisStoreServer store)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NativeBinaryCreatesReadsListsFindsAndRefusesAsTheContractSays()
    {
        var binary = Engines.RequireNativeBinary();
        Engines.RequireInstalled(Engines.RedisServer);
        await using var service = await ServiceProcess.StartAsync(await store.ClaimEmptyDatabaseAsync(), executable: binary);
        using var api = service.CreateApiClient();

        var (created, etag) = await api.CreateWithETagAsync();
        using var withoutKey = await api.PostAsJsonAsync("/api/users", TestUsers.Unique(), Cancellation);
        var read = await api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation);
        var page = await api.GetFromJsonAsync<UserDto[]>("/api/users?limit=1000", Cancellation);
        var found = await api.GetFromJsonAsync<UserDto[]>($"/api/users?username={created.Username.ToUpperInvariant()}", Cancellation);
        using var renamed = await api.ReplaceUserAsync(created.Id, new NewUser(created.Username + "x", created.Email, "Renamed"), etag);
        using var stale = await api.ReplaceUserAsync(created.Id, new NewUser(created.Username, created.Email), etag);
        using var missing = await api.GetAsync($"/api/users/{long.MaxValue}", Cancellation);
        using var taken = await api.PostOnceAsync(new NewUser(created.Username + "x", "other-" + created.Email), Guid.NewGuid().ToString());
        using var invalid = await api.PostAsJsonAsync("/api/users", new NewUser("", "not an email"), Cancellation);
        using var deleted = await api.DeleteAsync($"/api/users/{created.Id}", Cancellation);

        Assert.Equal(HttpStatusCode.Created, withoutKey.StatusCode);
        Assert.Equal(created, read);
        Assert.Contains(created, page!);
        Assert.Equal([created], found!);
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("Renamed", (await renamed.Content.ReadFromJsonAsync<UserDto>(Cancellation))!.DisplayName);
        await ProblemAssert.IsProblemAsync(stale, HttpStatusCode.PreconditionFailed);
        await ProblemAssert.IsProblemAsync(missing, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(taken, HttpStatusCode.Conflict);
        await ProblemAssert.IsValidationProblemAsync(invalid, "username", "email");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }
}

/// <summary>
/// The native build through a crash of its store: redis-server with the AppHost's durability flags killed
/// with -9 under eight writers. While it is gone the service answers 503 within 2 s and never 500; once it
/// is back every create the service acknowledged is there. Runs alone, with the other crashes.
/// </summary>
[Collection(DurabilityTests.Name)]
public sealed class NativeBinaryCrashTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NativeBinaryAnswers503WhileItsStoreIsDownAndLosesNoAcknowledgedCreate()
    {
        var binary = Engines.RequireNativeBinary();
        Engines.RequireInstalled(Engines.RedisServer);
        await using var store = await DurableRedisServer.StartAsync();
        await using var service = await ServiceProcess.StartAsync(store.ConnectionString, executable: binary);
        using var api = service.CreateApiClient();
        var load = WriteLoad.Start(8, service.CreateApiClient);
        await load.AcknowledgedAtLeastAsync(200, Timeout);

        await store.KillAsync();
        var asked = Stopwatch.StartNew();
        using var down = await api.GetAsync("/api/users/1", Cancellation);
        var answeredIn = asked.Elapsed;
        await load.StopAsync();
        await store.RestartAsync();
        var lost = await load.MissingAsync(api);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.True(answeredIn < TimeSpan.FromSeconds(2), $"The read answered after {answeredIn.TotalSeconds:0.00} s with the store down.");
        Assert.Empty(load.ServerErrors);
        Assert.True(lost.Count == 0, $"{lost.Count} of {load.Acknowledged.Count} acknowledged users were lost: {string.Join(", ", lost.Take(20))}");
    }
}
