using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Security;

/// <summary>An unexpected failure answers 500 problem details with a trace id, and nothing of its cause.</summary>
public sealed class ErrorDisclosureTests(GarnetStoreServer store)
{
    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(false, "text/html")]
    public async Task ExceptionInAHandlerAnswersAProblemWithoutItsDetailsWhateverTheCallerAccepts(bool development, string? accept)
    {
        await using UserServiceFactory service = development ? new DevelopmentUserService(store) : new GarnetUserService(store);
        await service.InitializeAsync();
        // A clock that fails makes the create handler throw: a bug, as far as the caller can tell.
        using var broken = service.WithWebHostBuilder(builder =>
            builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(new BrokenClock())));
        using var api = broken.CreateClient().Authorize();
        if (accept is not null)
        {
            api.DefaultRequestHeaders.Accept.ParseAdd(accept);
        }

        using var response = await api.PostAsJsonAsync("/api/users", TestUsers.Unique(), TestContext.Current.CancellationToken);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.InternalServerError);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("\"traceId\"", body);
        Assert.DoesNotContain("Exception", body);
        Assert.DoesNotContain("clock", body);
        Assert.DoesNotContain(" at ", body);
        Assert.DoesNotContain("UserStore", body);
        Assert.Null(problem.Detail);
    }

    /// <summary>
    /// Requests Kestrel refuses while parsing them, before the service runs: no application code can give
    /// these a problem body (Kestrel has no hook for them), so the promise is the next best one.
    /// </summary>
    public static TheoryData<string, string, int> KestrelRefusals => new()
    {
        { "a NUL in the path", "GET /api/users/1%00 HTTP/1.1\r\nHost: localhost\r\n\r\n", 400 },
        { "a request line it cannot parse", "GET /api/users HTTP/1.1 extra\r\nHost: localhost\r\n\r\n", 400 },
        { "headers over 64 KiB", $"GET /api/users HTTP/1.1\r\nHost: localhost\r\nX-Padding: {new string('x', 65 * 1024)}\r\n\r\n", 431 },
    };

    [Theory]
    [MemberData(nameof(KestrelRefusals))]
    public async Task RequestKestrelRefusesBeforeTheServiceRunsGetsABareStatusThatNamesNoServer(string what, string request, int status)
    {
        await using var service = new GarnetUserService(store);
        await service.InitializeAsync();
        service.UseKestrel(0);
        service.StartServer();
        var address = new Uri(service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, address.Port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
        // Kestrel closes the connection after a refusal, so reading to the end is bounded.
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer, TestContext.Current.CancellationToken);
        var text = Encoding.ASCII.GetString(answer.ToArray());

        Assert.True(text.StartsWith($"HTTP/1.1 {status} ", StringComparison.Ordinal), $"{what} answered: {text}");
        Assert.Contains("\r\nContent-Length: 0\r\n", text);
        Assert.Contains("\r\nConnection: close\r\n", text);
        Assert.EndsWith("\r\n\r\n", text);
        Assert.DoesNotContain("Server:", text);
    }

    private sealed class BrokenClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => throw new InvalidOperationException("The clock is broken.");
    }
}
