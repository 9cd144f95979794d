using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>
/// The whole topology through the AppHost, on each engine: the user service talks to the cache that the
/// engine runs, and the cache admits only its password and keeps it out of every log.
/// </summary>
public abstract class TopologyTests(AppHostFixture fixture)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UserCreatedThroughTheApiIsReadBackByIdAndInTheList()
    {
        using var api = fixture.Host.CreateApiClient();
        var newUser = TestUsers.Unique();

        var (response, created) = await api.CreateAsync(newUser);

        Assert.Equal(newUser.Username, created.Username);
        Assert.Equal(newUser.Email, created.Email);
        Assert.Equal($"/api/users/{created.Id}", response.Headers.Location?.AbsolutePath);

        var byId = await api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation);
        Assert.Equal(created, byId);

        var page = await api.GetFromJsonAsync<UserDto[]>($"/api/users?after={created.Id - 1}&limit=1", Cancellation);
        Assert.Equal([created], page!);
    }

    [Fact]
    public async Task CacheRefusesACommandFromAClientWithoutThePassword()
    {
        var options = ConfigurationOptions.Parse(await fixture.Host.CacheConnectionStringAsync());
        var endpoint = (DnsEndPoint)options.EndPoints.Single();

        // Raw RESP, because a client library without the password would not get as far as sending a command.
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint.Host, endpoint.Port, Cancellation);
        await using var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), Cancellation);
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer, Cancellation).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Cancellation);

        Assert.StartsWith("-NOAUTH", Encoding.ASCII.GetString(buffer, 0, read));
    }

    [Fact]
    public async Task StorePasswordAppearsInNoLogLine()
    {
        using var api = fixture.Host.CreateApiClient();
        await api.CreateAsync(TestUsers.Unique());
        (await api.GetAsync("/api/users/1", Cancellation)).Dispose();

        var lines = fixture.Host.Logs.Lines;

        Assert.Contains(lines, line => line.Contains("Ready to accept connections", StringComparison.Ordinal));
        var leaks = lines
            .Where(line => line.Contains(fixture.Host.Password, StringComparison.Ordinal))
            .Select(line => line.Replace(fixture.Host.Password, "<password>", StringComparison.Ordinal))
            .ToList();
        Assert.True(leaks.Count == 0, "The store password was logged:\n" + string.Join("\n", leaks));
    }

    [Fact]
    public async Task CacheAnswersAClientWithThePassword()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(await fixture.Host.CacheConnectionStringAsync());

        var key = $"tests:{Guid.NewGuid():N}";
        await redis.GetDatabase().StringSetAsync(key, "value", TimeSpan.FromMinutes(1));

        Assert.Equal("value", await redis.GetDatabase().StringGetAsync(key));
    }
}

[Collection(GarnetAppHostCollection.Name)]
public sealed class GarnetTopologyTests(GarnetAppHost fixture) : TopologyTests(fixture);

[Collection(RedisServerAppHostCollection.Name)]
public sealed class RedisServerTopologyTests(RedisServerAppHost fixture) : TopologyTests(fixture);
